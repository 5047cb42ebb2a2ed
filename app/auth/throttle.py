"""Per-account login throttle: N failures within a window lock the username for a while.

The per-address limit (Flask-Limiter, ``RATELIMIT_LOGIN``) is set high enough for a whole
branch behind one NAT; this module stops password guessing at one account instead.
Settings: ``LOGIN_MAX_FAILURES`` (5), ``LOGIN_FAILURE_WINDOW_MINUTES`` (15) and
``LOGIN_LOCK_MINUTES`` (15). Counting is done in single UPDATE statements, so concurrent
failures are never lost (PostgreSQL row lock; SQLite's write lock).
"""

from __future__ import annotations

import datetime as dt
import logging

from flask import current_app
from sqlalchemy import delete, or_, select, update

from app.auth.models import LoginThrottle
from app.core.extensions import db
from app.core.upserts import insert_on_conflict

logger = logging.getLogger(__name__)

#: Expired rows removed per failed login (keeps the table to the recent window).
PRUNE_BATCH_ROWS = 100


def _minutes(name: str) -> dt.timedelta:
    return dt.timedelta(minutes=current_app.config[name])


def locked_until(username: str, now: dt.datetime) -> dt.datetime | None:
    """When the lock on ``username`` ends, or ``None`` if it is not locked at ``now``.

    :param username: the username as typed (known or not).
    :param now: aware UTC instant.
    :returns: aware UTC instant in the future, or ``None``.
    """
    until = db.session.scalar(
        select(LoginThrottle.locked_until).where(LoginThrottle.username == username))
    return until if until is not None and until > now else None


def locks_for(usernames: list[str], now: dt.datetime) -> dict[str, dt.datetime]:
    """Username → end of its lock (aware UTC), for those of ``usernames`` locked at ``now``."""
    if not usernames:
        return {}
    rows = db.session.execute(
        select(LoginThrottle.username, LoginThrottle.locked_until)
        .where(LoginThrottle.username.in_(usernames), LoginThrottle.locked_until > now))
    return {username: until for username, until in rows}


def record_failure(username: str, now: dt.datetime) -> dt.datetime | None:
    """Count one failed login for ``username``; lock it when the limit is reached.

    :param username: the username as typed; unknown names are counted the same way.
    :param now: aware UTC instant of the attempt.
    :returns: the end of the lock (aware UTC) when this failure locked the account, else
        ``None``. Flushes through SQL statements; the request commits.
    """
    window, max_failures = _minutes("LOGIN_FAILURE_WINDOW_MINUTES"), current_app.config[
        "LOGIN_MAX_FAILURES"]
    _prune(now - window, now)
    db.session.execute(
        insert_on_conflict(LoginThrottle.__table__)
        .values(username=username, failure_count=0, window_started_at=now)
        .on_conflict_do_nothing(index_elements=["username"]))
    mine = LoginThrottle.username == username
    db.session.execute(  # a window that has run out starts again
        update(LoginThrottle).where(mine, LoginThrottle.window_started_at <= now - window)
        .values(failure_count=0, window_started_at=now)
        .execution_options(synchronize_session=False))
    db.session.execute(
        update(LoginThrottle).where(mine)
        .values(failure_count=LoginThrottle.failure_count + 1)
        .execution_options(synchronize_session=False))
    count = db.session.scalar(select(LoginThrottle.failure_count).where(mine))
    if count < max_failures:
        return None
    until = now + _minutes("LOGIN_LOCK_MINUTES")
    db.session.execute(
        update(LoginThrottle).where(mine, LoginThrottle.failure_count >= max_failures)
        .values(failure_count=0, window_started_at=now, locked_until=until)
        .execution_options(synchronize_session=False))
    logger.warning("login locked username=%s after %s failures until %s", username, count,
                   until.isoformat())
    return until


def clear_failures(username: str) -> None:
    """Forget the failures (and any lock) of ``username``: a good login or a password reset."""
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.username == username)
                       .execution_options(synchronize_session=False))


def _prune(window_start: dt.datetime, now: dt.datetime) -> None:
    """Delete a batch of rows whose window and lock are both over.

    Rows another transaction holds are skipped (``SKIP LOCKED`` on PostgreSQL), so two
    failed logins never wait on each other here.
    """
    stale = (select(LoginThrottle.id)
             .where(LoginThrottle.window_started_at <= window_start,
                    or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until <= now))
             .limit(PRUNE_BATCH_ROWS)
             .with_for_update(skip_locked=True))
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.id.in_(stale))
                       .execution_options(synchronize_session=False))
