"""Access-token caches shared across processes, with single-flight refresh.

WeCom intercepts frequent ``gettoken`` calls, so every process (web workers, the
scheduler, CLI commands) shares one token per corp app. A store hands out the cached
token while it is valid; a refresh takes a lock (a thread lock plus a database row lock,
or a Redis lock), looks again, and only then asks WeCom, so N concurrent callers cause
one ``gettoken`` call. A refresh after WeCom rejected a token (40014/42001) passes that
token as ``rejected``: if another process already replaced it, the new one is used.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from app.core.locks import lock_rows
from app.core.upserts import insert_on_conflict
from app.wecom.models import WeComAccessToken

#: ``fetch()`` asks WeCom and returns ``(access_token, expires_in seconds)``.
Fetch = Callable[[], tuple[str, int]]
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def usable_seconds(expires_in: int) -> int:
    """Seconds a fresh token is handed out: ``expires_in`` less a margin (≤ 5 min, 10 %)."""
    return max(1, expires_in - min(300, expires_in // 10))


class TokenStore(Protocol):
    """Where the access token lives between calls and processes."""

    def get(self, key: str, now: dt.datetime) -> str | None:
        """The cached token for ``key`` if it is valid at ``now`` (aware UTC), else ``None``."""

    def refresh(self, key: str, now: dt.datetime, fetch: Fetch,
                rejected: str | None = None) -> str:
        """A valid token other than ``rejected``, calling ``fetch`` at most once (locked)."""


class DatabaseTokenStore:
    """Token cache in ``wecom_access_tokens``, on its own connection (commits at once).

    :param engine: the application's engine (``db.engine``), or another database's.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()

    def get(self, key: str, now: dt.datetime) -> str | None:
        """The valid cached token, or ``None`` (one indexed read)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(WeComAccessToken.access_token, WeComAccessToken.expires_at)
                               .where(WeComAccessToken.cache_key == key)).first()
        return _valid(row, now)

    def refresh(self, key: str, now: dt.datetime, fetch: Fetch,
                rejected: str | None = None) -> str:
        """Single-flight refresh: lock the key's row, re-read, fetch only if still needed.

        :raises WeComError: from ``fetch`` (the lock is released, nothing is stored).
        """
        table = WeComAccessToken.__table__
        with self._lock, self.engine.begin() as conn:
            conn.execute(insert_on_conflict(table, conn.dialect.name)
                         .values(cache_key=key, access_token="", expires_at=_EPOCH)
                         .on_conflict_do_nothing(index_elements=["cache_key"]))
            lock_rows(conn, WeComAccessToken, WeComAccessToken.cache_key == key)
            row = conn.execute(select(WeComAccessToken.access_token, WeComAccessToken.expires_at)
                               .where(WeComAccessToken.cache_key == key)).first()
            token = _valid(row, now)
            if token is not None and token != rejected:
                return token
            token, expires_in = fetch()
            conn.execute(update(table).where(table.c.cache_key == key).values(
                access_token=token,
                expires_at=now + dt.timedelta(seconds=usable_seconds(expires_in))))
            return token


class RedisTokenStore:
    """Token cache in Redis (``WECOM_TOKEN_REDIS_URL``), refreshed under a Redis lock.

    :param redis_client: a ``redis.Redis`` instance.
    """

    def __init__(self, redis_client) -> None:
        self.redis = redis_client
        self._lock = threading.Lock()

    def get(self, key: str, now: dt.datetime) -> str | None:
        """The cached token (Redis expires it), or ``None``."""
        value = self.redis.get(f"wecom:token:{key}")
        return value.decode() if value else None

    def refresh(self, key: str, now: dt.datetime, fetch: Fetch,
                rejected: str | None = None) -> str:
        """Single-flight refresh under the lock ``wecom:token:<key>:lock`` (30 s)."""
        with self._lock, self.redis.lock(f"wecom:token:{key}:lock", timeout=30,
                                         blocking_timeout=30):
            token = self.get(key, now)
            if token is not None and token != rejected:
                return token
            token, expires_in = fetch()
            self.redis.set(f"wecom:token:{key}", token, ex=usable_seconds(expires_in))
            return token


def _valid(row, now: dt.datetime) -> str | None:
    if row is None or not row.access_token:
        return None
    expires_at = row.expires_at
    if expires_at.tzinfo is None:  # SQLite on a plain Core connection
        expires_at = expires_at.replace(tzinfo=dt.UTC)
    return row.access_token if expires_at > now else None
