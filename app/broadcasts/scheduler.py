"""The APScheduler 3 process: an in-memory clock, one instance per database.

APScheduler only ticks: one job every ``SCHEDULER_TICK_SECONDS`` (60) runs
``app.broadcasts.jobs.tick``, and the ``plan_runs`` rows decide what runs. Nothing is
pickled or persisted by APScheduler.

Only ``flask scheduler run`` starts a scheduler; web workers and the reloader
never do. A lock held by the database makes a second ``scheduler run`` on the same
database exit instead of firing jobs twice, whatever checkout, folder or host it runs
from:

- PostgreSQL: a session-level advisory lock on a dedicated connection. The server
  releases it when that connection ends, a crashed process included.
- SQLite: the lease ``scheduler`` in the ``leases`` table (``app.core.leases``), valid
  for ``SCHEDULER_LEASE_SECONDS``, renewed by a heartbeat job every third of that, deleted
  on shutdown. A crashed holder's lease can be taken over once it has expired.

A scheduler that loses its lock (the advisory lock's connection broke, the lease was
taken over, or could not be renewed before it expired) stops. Jobs hold only ids and
run through ``app.broadcasts.jobs``.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from contextlib import contextmanager

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from app.core import leases
from app.core.clock import utcnow
from app.core.sqlite import configure_sqlite_engine

logger = logging.getLogger(__name__)
ADVISORY_LOCK_KEY = 0x5A54_5343  # "ZTSC"
LEASE_NAME = "scheduler"
TICK_JOB_ID = "tick"
LOCK_JOB_ID = "scheduler-lock"


class SchedulerAlreadyRunning(RuntimeError):
    """Another scheduler process holds the lock for this database."""


def build_scheduler(app, scheduler_class=BlockingScheduler) -> BaseScheduler:
    """Create (not start) the scheduler for ``app``: memory job store only.

    :returns: a scheduler in ``TIMEZONE`` with coalescing and one instance per job (a tick
        that overruns is not started twice; missed ticks collapse into one).
    """
    return scheduler_class(
        jobstores={"default": MemoryJobStore()},
        timezone=app.config["TIMEZONE"],
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
    )


class SchedulerLockLost(RuntimeError):
    """The running scheduler no longer holds its lock and must stop."""


def database_engine(app, **options) -> Engine:
    """A new engine on the app's database, outside Flask-SQLAlchemy (scheduler use).

    :param options: ``create_engine`` keyword arguments (e.g. ``poolclass``).
    :returns: an engine with the SQLite pragmas of ``app.core.sqlite`` installed.
    """
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], **options)
    configure_sqlite_engine(engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])
    return engine


class AdvisoryLock:
    """PostgreSQL: the advisory lock held by one dedicated connection's session."""

    def __init__(self, connection: Connection) -> None:
        """Wrap the connection that holds the lock (it must stay open)."""
        self.connection = connection
        self.lost: SchedulerLockLost | None = None

    def heartbeat(self, now: dt.datetime | None = None) -> None:
        """Check that the connection, and with it the lock, is still alive.

        :raises SchedulerLockLost: the connection broke; the server has released the lock.
        """
        try:
            self.connection.execute(text("SELECT 1"))
            self.connection.commit()
        except SQLAlchemyError as error:
            raise SchedulerLockLost("the connection holding the advisory lock broke") from error


class LeaseLock:
    """SQLite: the ``scheduler`` lease row, renewed by :meth:`heartbeat`."""

    def __init__(self, engine: Engine, holder: str, ttl: dt.timedelta,
                 expires_at: dt.datetime) -> None:
        """Wrap a lease just acquired by ``holder`` until ``expires_at`` (aware UTC)."""
        self.engine, self.holder, self.ttl, self.expires_at = engine, holder, ttl, expires_at
        self.lost: SchedulerLockLost | None = None

    def heartbeat(self, now: dt.datetime | None = None) -> None:
        """Renew the lease to ``now + SCHEDULER_LEASE_SECONDS``.

        A renewal that fails (e.g. the database stayed locked beyond ``busy_timeout``) is
        logged and retried at the next heartbeat while the lease is still valid.

        :param now: aware instant of the renewal (default: now, UTC).
        :raises SchedulerLockLost: another process holds the lease now, or it expired
            before a renewal succeeded.
        """
        now = now or utcnow()
        try:
            expires_at = leases.renew(self.engine, LEASE_NAME, self.holder, self.ttl, now)
        except SQLAlchemyError as error:
            if now < self.expires_at:
                logger.warning("lease renewal failed holder=%s expires_at=%s: %s", self.holder,
                               self.expires_at.isoformat(), error)
                return
            raise SchedulerLockLost(f"lease {LEASE_NAME!r} expired at "
                                    f"{self.expires_at:%Y-%m-%d %H:%M:%S} UTC before it could "
                                    f"be renewed") from error
        if expires_at is None:
            raise SchedulerLockLost(f"lease {LEASE_NAME!r} is now held by {self._holder_now()}")
        self.expires_at = expires_at

    def _holder_now(self) -> str:
        try:
            state = leases.current(self.engine, LEASE_NAME)
        except SQLAlchemyError:
            return "an unknown holder"
        return state.holder if state else "nobody"


@contextmanager
def single_instance_lock(app):
    """Hold the one-scheduler-per-database lock for the ``with`` block.

    :returns: (as the ``with`` target) an :class:`AdvisoryLock` (PostgreSQL) or a
        :class:`LeaseLock` (SQLite); call its ``heartbeat()`` every
        :func:`heartbeat_seconds`.
    :raises SchedulerAlreadyRunning: another process holds the lock; the message names
        the holder (host:pid:id) on SQLite.
    """
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        with _advisory_lock(app) as lock:
            yield lock
    else:
        with _lease_lock(app) as lock:
            yield lock


@contextmanager
def _advisory_lock(app):
    engine = database_engine(app, poolclass=NullPool)
    connection = engine.connect()
    try:
        held = connection.execute(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
        ).scalar()
        connection.commit()  # the lock belongs to the session, not to a transaction
        if not held:
            raise SchedulerAlreadyRunning("another scheduler holds the PostgreSQL advisory lock")
        yield AdvisoryLock(connection)
    finally:
        connection.close()
        engine.dispose()


@contextmanager
def _lease_lock(app):
    engine = database_engine(app, poolclass=NullPool)
    holder = leases.new_holder_id()
    ttl = dt.timedelta(seconds=app.config["SCHEDULER_LEASE_SECONDS"])
    try:
        try:
            expires_at = leases.acquire(engine, LEASE_NAME, holder, ttl)
        except leases.LeaseUnavailable as error:
            raise SchedulerAlreadyRunning(
                f"another scheduler is running on this database: {error}") from error
        try:
            yield LeaseLock(engine, holder, ttl, expires_at)
        finally:
            _release(engine, holder)
    finally:
        engine.dispose()


@contextmanager
def standby_lock(app, on_wait: Callable[[str], None] | None = None,
                 sleep: Callable[[float], None] = time.sleep):
    """Wait for the scheduler lock, then hold it for the ``with`` block (hot standby).

    Tries :func:`single_instance_lock` every :func:`heartbeat_seconds` until it is free.
    On PostgreSQL the server frees the advisory lock as soon as the leader's connection
    ends, so a standby takes over within a third of ``SCHEDULER_LEASE_SECONDS`` of the
    leader's death being noticed; on SQLite it waits for the dead leader's lease to expire,
    so within ``SCHEDULER_LEASE_SECONDS`` of its last heartbeat plus one poll.

    :param on_wait: called once, with the refusal message, when the lock is held elsewhere.
    :param sleep: waits between two attempts (seconds); tests inject their own.
    :returns: (as the ``with`` target) the lock, as :func:`single_instance_lock` does.
    """
    waited = False
    while True:
        try:
            with single_instance_lock(app) as lock:
                if waited:
                    logger.info("scheduler lock taken over by this standby")
                yield lock
                return
        except SchedulerAlreadyRunning as error:
            if not waited and on_wait is not None:
                on_wait(str(error))
            waited = True
        sleep(heartbeat_seconds(app))


def _release(engine: Engine, holder: str) -> None:
    try:
        leases.release(engine, LEASE_NAME, holder)
    except SQLAlchemyError as error:  # it expires on its own; the next scheduler waits for that
        logger.warning("lease not released holder=%s (it will expire): %s", holder, error)


def heartbeat_seconds(app) -> float:
    """Seconds between two heartbeats of the scheduler's lock: a third of the lease."""
    return app.config["SCHEDULER_LEASE_SECONDS"] / 3


def heartbeat_job(lock, scheduler: BaseScheduler) -> None:
    """Interval job of ``flask scheduler run``: renew the lock, or stop the scheduler.

    :param lock: the target of :func:`single_instance_lock`; on loss its ``lost``
        attribute is set to the :class:`SchedulerLockLost` error.
    :param scheduler: the running scheduler, shut down (without waiting) on loss.
    """
    try:
        lock.heartbeat()
    except SchedulerLockLost as error:
        logger.error("scheduler lock lost, stopping the scheduler: %s", error)
        lock.lost = error
        scheduler.shutdown(wait=False)
