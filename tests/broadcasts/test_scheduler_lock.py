"""Issue 6, case 6: one scheduler per database, not per checkout.

The SQLite tests run whatever ``TEST_DATABASE_URL`` says: each builds two apps, as two
checkouts with their own instance folders, on one SQLite file of its own. The clock is
moved with time-machine, never waited for.
"""

import datetime as dt
from pathlib import Path

import pytest
import time_machine
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from app.broadcasts.scheduler import (
    LEASE_NAME,
    AdvisoryLock,
    LeaseLock,
    SchedulerAlreadyRunning,
    SchedulerLockLost,
    heartbeat_job,
    single_instance_lock,
)
from app.core import leases
from app.core.extensions import db as _db
from app.factory import create_app
from config import TestConfig

T0 = dt.datetime(2025, 4, 25, 0, 0, tzinfo=dt.UTC)
LEASE = dt.timedelta(seconds=60)


def _checkout(tmp_path, folder: str):
    """An app as started from checkout ``folder``: its own instance folder, shared database."""
    app = create_app(TestConfig(), SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'z.sqlite3'}",
                     SCHEDULER_LEASE_SECONDS=int(LEASE.total_seconds()))
    app.instance_path = str(tmp_path / folder / "instance")
    return app


@pytest.fixture
def checkouts(tmp_path):
    first, second = _checkout(tmp_path, "checkout-a"), _checkout(tmp_path, "checkout-b")
    with first.app_context():
        _db.create_all()
        engine = _db.engine
    yield first, second
    engine.dispose()


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


class _Scheduler:
    """Stands in for the running scheduler: records ``shutdown``."""

    def __init__(self):
        self.stopped = False

    def shutdown(self, wait=True):
        self.stopped = True


def test_a_second_checkout_on_the_same_sqlite_database_is_refused(checkouts, clock):
    first, second = checkouts
    with single_instance_lock(first) as held:
        assert isinstance(held, LeaseLock)
        with pytest.raises(SchedulerAlreadyRunning, match=held.holder):
            with single_instance_lock(second):
                pass
    assert not (Path(first.instance_path) / "scheduler.lock").exists()  # no file lock
    with single_instance_lock(second):  # released on exit: no wait for the expiry
        pass


def test_scheduler_run_in_a_second_checkout_exits_naming_the_holder(checkouts, clock):
    first, second = checkouts
    with single_instance_lock(first) as held:
        result = second.test_cli_runner().invoke(args=["scheduler", "run"])
    assert result.exit_code == 1
    assert "scheduler not started: another scheduler is running on this database" in \
        result.output
    assert held.holder in result.output


def test_a_crashed_holders_lease_expires_and_is_taken_over(checkouts, clock):
    first, second = checkouts
    engine = create_engine(first.config["SQLALCHEMY_DATABASE_URI"], poolclass=NullPool)
    leases.acquire(engine, LEASE_NAME, "gone-host:4242:deadbeef", LEASE)  # never released
    clock.shift(LEASE - dt.timedelta(seconds=1))
    with pytest.raises(SchedulerAlreadyRunning, match="gone-host:4242:deadbeef"):
        with single_instance_lock(second):
            pass
    clock.shift(dt.timedelta(seconds=1))
    with single_instance_lock(second) as taken:
        assert leases.current(engine, LEASE_NAME).holder == taken.holder
    engine.dispose()


def test_the_heartbeat_keeps_the_lease(checkouts, clock):
    first, second = checkouts
    with single_instance_lock(first) as held:
        for _ in range(6):  # two lease lengths, a heartbeat every third of one
            clock.shift(LEASE / 3)
            heartbeat_job(held, _Scheduler())
            assert held.lost is None
        assert held.expires_at == T0 + 2 * LEASE + LEASE
        with pytest.raises(SchedulerAlreadyRunning, match=held.holder):
            with single_instance_lock(second):
                pass


def test_a_scheduler_whose_lease_was_taken_over_stops(checkouts, clock):
    first, second = checkouts
    with single_instance_lock(first) as stalled:
        clock.shift(LEASE)  # no heartbeat for a whole lease (e.g. the process was paused)
        with single_instance_lock(second) as successor:
            scheduler = _Scheduler()
            heartbeat_job(stalled, scheduler)
            assert scheduler.stopped
            assert isinstance(stalled.lost, SchedulerLockLost)
            assert successor.holder in str(stalled.lost)
            heartbeat_job(successor, _Scheduler())
            assert successor.lost is None


def test_a_lease_that_cannot_be_renewed_in_time_stops_the_scheduler(checkouts, clock,
                                                                      monkeypatch):
    first, _ = checkouts

    def locked(*args, **kwargs):
        raise OperationalError("UPDATE leases", {}, Exception("database is locked"))

    with single_instance_lock(first) as held:
        monkeypatch.setattr(leases, "renew", locked)
        clock.shift(LEASE / 3)
        heartbeat_job(held, scheduler := _Scheduler())
        assert not scheduler.stopped  # still valid: retried at the next heartbeat
        clock.shift(LEASE)
        heartbeat_job(held, scheduler)
        assert scheduler.stopped and "before it could be renewed" in str(held.lost)


def test_scheduler_run_holds_the_lease_while_it_runs_and_gives_it_up(checkouts, monkeypatch):
    first, second = checkouts
    seen = {}

    def start(scheduler, *args, **kwargs):
        jobs = {job.id: job for job in scheduler.get_jobs()}
        seen["jobs"] = sorted(jobs)
        seen["interval"] = jobs["scheduler-lock"].trigger.interval
        with pytest.raises(SchedulerAlreadyRunning):
            with single_instance_lock(second):
                pass

    monkeypatch.setattr(BlockingScheduler, "start", start)
    result = first.test_cli_runner().invoke(args=["scheduler", "run"])
    assert result.exit_code == 0, result.output
    assert seen == {"jobs": ["coverage-snapshot", "imports-requeue", "scheduler-lock", "tick"],
                    "interval": LEASE / 3}  # plus the customers' jobs
    with single_instance_lock(second):
        pass


@pytest.fixture
def postgres_app(app):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("the advisory lock is PostgreSQL's")
    return app


def test_postgres_keeps_the_advisory_lock_and_frees_it_with_its_connection(postgres_app):
    with single_instance_lock(postgres_app) as held:
        assert isinstance(held, AdvisoryLock)
        held.heartbeat()
        pid = held.connection.execute(text("SELECT pg_backend_pid()")).scalar()
        held.connection.commit()
        other = create_engine(postgres_app.config["SQLALCHEMY_DATABASE_URI"], poolclass=NullPool)
        with other.connect() as connection:  # the holder's process dies
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        other.dispose()
        with pytest.raises(SchedulerLockLost):
            held.heartbeat()
        with single_instance_lock(postgres_app):  # the server released it
            pass
