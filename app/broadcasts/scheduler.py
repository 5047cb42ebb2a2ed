"""The APScheduler 3 process: persistent job store, one instance per database.

Only ``flask scheduler run`` starts a scheduler; web workers and the reloader
never do. A process-wide lock (PostgreSQL advisory lock, or a file lock next to
a SQLite database) makes a second ``scheduler run`` exit instead of firing jobs
twice. Jobs hold only ids and run through ``app.broadcasts.jobs``.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from pathlib import Path

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from filelock import FileLock, Timeout
from sqlalchemy import create_engine, text

logger = logging.getLogger(__name__)
ADVISORY_LOCK_KEY = 0x5A54_5343  # "ZTSC"
SYNC_JOB_ID = "sop-sync"


class SchedulerAlreadyRunning(RuntimeError):
    """Another scheduler process holds the lock for this database."""


def build_scheduler(app, scheduler_class=BlockingScheduler, jobstore=None) -> BaseScheduler:
    """Create (not start) the scheduler for ``app``.

    :param jobstore: override the persistent ``SQLAlchemyJobStore`` (table
        ``apscheduler_jobs`` in the app database); tests pass a memory store.
    :returns: a scheduler in ``TIMEZONE`` with coalescing, one instance per job;
        store ``volatile`` (memory) holds the plan-sync job.
    """
    store = jobstore or SQLAlchemyJobStore(url=app.config["SQLALCHEMY_DATABASE_URI"])
    return scheduler_class(
        jobstores={"default": store, "volatile": MemoryJobStore()},
        timezone=app.config["TIMEZONE"],
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": app.config["SCHEDULER_MISFIRE_GRACE_SECONDS"],
        },
    )


@contextmanager
def single_instance_lock(app):
    """Hold the one-scheduler-per-database lock for the ``with`` block.

    :raises SchedulerAlreadyRunning: if another process holds it.
    """
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("postgresql"):
        engine = create_engine(url, poolclass=None)
        connection = engine.connect()
        try:
            held = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
            ).scalar()
            if not held:
                raise SchedulerAlreadyRunning("another scheduler holds the advisory lock")
            yield
        finally:
            connection.close()
            engine.dispose()
        return
    lock = FileLock(str(Path(app.instance_path) / "scheduler.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout as error:
        raise SchedulerAlreadyRunning(f"another scheduler holds {lock.lock_file}") from error
    try:
        yield
    finally:
        lock.release()
