"""Token stores: shared across processes, one ``gettoken`` under concurrency, per backend."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import redis
from sqlalchemy import delete

from app.core.extensions import db as _db
from app.wecom.models import WeComAccessToken
from app.wecom.tokens import DatabaseTokenStore, RedisTokenStore, usable_seconds

NOW = dt.datetime(2025, 4, 25, tzinfo=dt.UTC)


def _race(store_factory, key: str, workers: int = 8) -> tuple[list[str], list[int]]:
    """``workers`` threads, each with its own store (like separate processes), refresh."""
    calls, tokens, barrier = [], [], threading.Barrier(workers)

    def fetch():
        calls.append(1)
        return f"token-{len(calls)}", 7200

    def worker():
        store = store_factory()
        barrier.wait()
        tokens.append(store.get(key, NOW) or store.refresh(key, NOW, fetch))

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tokens, calls


@pytest.fixture
def app_engine(app):
    """The test database itself (SQLite file or ``TEST_DATABASE_URL``), cleaned after."""
    with app.app_context():
        yield _db.engine
        with _db.engine.begin() as conn:
            conn.execute(delete(WeComAccessToken).where(
                WeComAccessToken.cache_key.like("test-%")))
        _db.engine.dispose()  # close the racing threads' pooled connections


def test_database_store_single_flight_on_the_test_database(app_engine):
    tokens, calls = _race(lambda: DatabaseTokenStore(app_engine), "test-race")
    assert len(calls) == 1 and set(tokens) == {"token-1"}


def test_database_store_replaces_a_rejected_token_once(app_engine):
    store, other = DatabaseTokenStore(app_engine), DatabaseTokenStore(app_engine)
    fetched = iter(["first", "second", "third"])
    assert store.refresh("test-reject", NOW, lambda: (next(fetched), 7200)) == "first"
    assert store.refresh("test-reject", NOW, lambda: (next(fetched), 7200),
                         rejected="first") == "second"
    # Another process saw "first" rejected too, later: it gets "second", no new fetch.
    assert other.refresh("test-reject", NOW, lambda: (next(fetched), 7200),
                         rejected="first") == "second"
    later = NOW + dt.timedelta(seconds=usable_seconds(7200) + 1)
    assert other.get("test-reject", later) is None


@pytest.fixture
def redis_client():
    client = redis.Redis.from_url("redis://127.0.0.1:6379/15")
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    yield client
    client.delete("wecom:token:test-redis", "wecom:token:test-redis:lock")
    client.close()


def test_redis_store_single_flight(redis_client):
    tokens, calls = _race(lambda: RedisTokenStore(redis_client), "test-redis")
    assert len(calls) == 1 and set(tokens) == {"token-1"}
    assert 0 < redis_client.ttl("wecom:token:test-redis") <= usable_seconds(7200)
