"""Readiness checks behind ``GET /readyz`` and the scrape-time gauges of ``/metrics``.

Each check answers ``(ok, detail)``; ``detail`` is a short fixed phrase or a figure, never
an exception text (which may name hosts or users): the exception goes to the log.

- ``database``: ``SELECT 1`` on the app's pool.
- ``migrations``: the ``alembic_version`` row equals the head of ``migrations/versions``.
- ``scheduler``: a scheduler process holds the one-per-database lock of
  ``app.broadcasts.scheduler``: on PostgreSQL a session holds the advisory lock (the
  server drops it when that session dies, so a held lock is a live scheduler); on SQLite
  the ``scheduler`` lease has not expired (its heartbeat renews it every third of
  ``SCHEDULER_LEASE_SECONDS``). Required unless ``READYZ_REQUIRE_SCHEDULER=0``.
- ``queue``: ``PING`` to the task queue's Redis (in-process mode: always ok).
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import lru_cache

from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import func, select, text

from app.broadcasts.models import Post, Task
from app.broadcasts.scheduler import ADVISORY_LOCK_KEY, LEASE_NAME
from app.core import leases
from app.core.clock import business_today, utcnow
from app.core.extensions import db
from app.core.task_metrics import queue_depths
from app.core.tasks import queue

logger = logging.getLogger(__name__)

_ADVISORY_HELD = text(
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
    "AND classid = :high AND objid = :low AND objsubid = 1 "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")


@lru_cache(maxsize=4)
def _heads(directory: str) -> frozenset[str]:
    return frozenset(ScriptDirectory(directory).get_heads())


def check_database() -> tuple[bool, str]:
    """``SELECT 1`` answers."""
    db.session.execute(text("SELECT 1"))
    return True, "reachable"


def check_migrations() -> tuple[bool, str]:
    """The database's Alembic revision is the code's head."""
    heads = _heads(current_app.extensions["migrate"].directory)
    current = set(db.session.scalars(text("SELECT version_num FROM alembic_version")))
    if current == heads:
        return True, "at head " + ",".join(sorted(heads))
    return False, f"database at {','.join(sorted(current)) or 'nothing'}, code at " \
                  f"{','.join(sorted(heads))}: run `flask db upgrade`"


def scheduler_alive() -> tuple[bool, str]:
    """Whether a scheduler holds its lock now (see the module docstring)."""
    engine = db.engine
    if engine.dialect.name == "postgresql":
        held = db.session.scalar(_ADVISORY_HELD, {"high": ADVISORY_LOCK_KEY >> 32,
                                                  "low": ADVISORY_LOCK_KEY & 0xFFFFFFFF})
        return (True, "advisory lock held") if held else (False, "no scheduler holds the lock")
    state = leases.current(engine, LEASE_NAME)
    if state is None:
        return False, "no scheduler lease"
    age = (utcnow() - state.heartbeat_at).total_seconds()
    if state.expires_at <= utcnow():
        return False, f"lease expired, last heartbeat {age:.0f}s ago"
    return True, f"last heartbeat {age:.0f}s ago"


def check_scheduler() -> tuple[bool, str]:
    """:func:`scheduler_alive`, counted as ok when ``READYZ_REQUIRE_SCHEDULER`` is off."""
    alive, detail = scheduler_alive()
    if not alive and not current_app.config.get("READYZ_REQUIRE_SCHEDULER", True):
        return True, detail + " (not required)"
    return alive, detail


def check_queue() -> tuple[bool, str]:
    """The task queue's broker answers ``PING`` (in-process mode has no broker)."""
    broker = queue().broker
    if broker is None:
        return True, "in-process"
    broker.client.ping()
    return True, "reachable"


CHECKS = {"database": check_database, "migrations": check_migrations,
          "scheduler": check_scheduler, "queue": check_queue}


def readiness() -> tuple[bool, dict[str, dict]]:
    """Run every check; a check that raises fails with ``"error"`` (logged with its cause).

    :returns: ``(all_ok, {name: {"ok": bool, "detail": str}})``.
    """
    results = {}
    for name, check in CHECKS.items():
        try:
            ok, detail = check()
        except Exception:  # noqa: BLE001 - any failure of a dependency means not ready
            logger.exception("readiness check %s failed", name)
            db.session.rollback()
            ok, detail = False, "error"
        results[name] = {"ok": ok, "detail": detail}
    return all(r["ok"] for r in results.values()), results


def scrape_gauges(family):
    """Yield gauge families for ``/metrics`` (each source that fails is logged and skipped).

    :param family: ``prometheus_client.core.GaugeMetricFamily``.
    """
    try:
        broker = queue().broker
        if broker is not None:
            gauge = family("zhongtai_queue_messages", "Task queue messages by state",
                           labels=["queue", "state"])
            for (name, state), count in queue_depths(broker).items():
                gauge.add_metric([name, state], count)
            yield gauge
    except Exception:  # noqa: BLE001
        logger.exception("metrics: queue depth unavailable")
    try:
        yield from _run_outcome(family, business_today())
        gauge = family("zhongtai_scheduler_up", "1 while a scheduler holds its lock")
        gauge.add_metric([], 1 if scheduler_alive()[0] else 0)
        yield gauge
    except Exception:  # noqa: BLE001
        logger.exception("metrics: database figures unavailable")
        db.session.rollback()


def _run_outcome(family, day: dt.date):
    posts = family("zhongtai_posts", "Posts of the business date by status", labels=["status"])
    for status, count in db.session.execute(
            select(Post.status, func.count()).where(Post.run_date == day).group_by(Post.status)):
        posts.add_metric([status.value], count)
    tasks = family("zhongtai_tasks", "Front-line tasks of the business date's posts by status",
                   labels=["status"])
    for status, count in db.session.execute(
            select(Task.status, func.count()).join(Post, Task.post_id == Post.id)
            .where(Post.run_date == day).group_by(Task.status)):
        tasks.add_metric([status.value], count)
    yield posts
    yield tasks
