"""Daily snapshots: adds month to date beside coverage, idempotent per date, stale rows
removed, the scheduler's nightly job (catch-up, stable id, cron time), the CLI, the page
and the trend charts reading them."""

from __future__ import annotations

import datetime as dt
import json

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import func, select, true

from app.core.scheduling import install_registered_jobs
from app.customers.adds import staff_summary
from app.customers.jobs import JOB_ID, REQUEUE_JOB_ID, install_jobs, take_due_snapshots
from app.customers.models import AddsSnapshot, CoverageSnapshot
from app.customers.services import coverage_overview, my_trend, subtree_trend
from app.customers.snapshots import (
    CATCH_UP_DAYS,
    due_dates,
    snapshot_adds,
    take_snapshot,
    take_snapshots,
)
from app.org.models import Role
from tests import factories
from tests.customers.conftest import at, verified_add

ON = dt.date(2025, 4, 25)


def _everyone(column):
    return true()


def _snapshot_dates(db):
    return sorted(db.session.scalars(select(CoverageSnapshot.snapshot_date).distinct()))


def test_adds_snapshot_equals_the_live_month_to_date_summary(bank, db):
    verified_add(bank.rm_a, at(2))
    verified_add(bank.rm_a, at(3), verified_after=None)
    verified_add(bank.rm_c, at(20), ip_province="11")
    verified_add(bank.rm_c, at(26))  # after the snapshot date: not counted
    verified_add(bank.rm_b, at(28, month=3))  # previous month: not counted
    live = staff_summary(dt.date(2025, 4, 1), ON, _everyone)
    counts = take_snapshot(ON)
    assert (counts.coverage_rows, counts.adds_rows) == (3, 2)  # rm_b: a customer, no April add
    assert [vars(r) for r in snapshot_adds(ON, _everyone)] == [vars(r) for r in live]
    (rm_a,) = snapshot_adds(ON, lambda column: column == bank.rm_a.id)
    assert (rm_a.adds, rm_a.valid_adds, rm_a.invalid["not_verified"]) == (2, 1, 1)


def test_a_backfill_equals_the_live_summary_of_each_date(bank, db):
    verified_add(bank.rm_a, at(30, hour=23, minute=30, month=3))  # 15:30 UTC, March 30 local
    verified_add(bank.rm_a, at(1, hour=0, minute=30))  # March 31 16:30 UTC, April 1 local
    verified_add(bank.rm_a, at(1, hour=23, minute=59), verified_after=None)
    verified_add(bank.rm_c, at(2), ip_province="11")
    verified_add(bank.rm_c, at(2, hour=7))  # April 1 23:00 UTC
    verified_add(bank.rm_b, at(4))  # after the last date
    dates = [dt.date(2025, 3, 29) + dt.timedelta(days=n) for n in range(6)]  # 03-29 … 04-03
    counts = take_snapshots(reversed(dates))
    assert [c.date for c in counts] == dates
    for on in dates:
        live = staff_summary(on.replace(day=1), on, _everyone)
        assert [vars(r) for r in snapshot_adds(on, _everyone)] == [vars(r) for r in live], on
    assert [c.adds_rows for c in counts] == [0, 1, 1, 1, 2, 2]
    (rm_a,) = snapshot_adds(dt.date(2025, 4, 1), lambda column: column == bank.rm_a.id)
    assert (rm_a.adds, rm_a.valid_adds, rm_a.invalid["not_verified"]) == (2, 1, 1)


def test_taking_a_date_again_overwrites_it_and_drops_stale_rows(bank, db):
    verified_add(bank.rm_a, at(2))
    take_snapshot(ON)
    take_snapshot(ON)
    assert db.session.scalar(select(func.count()).select_from(CoverageSnapshot)) == 1
    assert db.session.scalar(select(func.count()).select_from(AddsSnapshot)) == 1
    db.session.execute(CoverageSnapshot.__table__.update().values(covered=0))
    db.session.add(AddsSnapshot(snapshot_date=ON, staff_id=bank.rm_b.id, adds=3, valid_adds=0))
    db.session.flush()
    take_snapshot(ON)
    (row,) = db.session.scalars(select(CoverageSnapshot))
    assert (row.covered, row.customers) == (1, 1)  # recomputed, not the stale figure
    assert db.session.scalars(select(AddsSnapshot.staff_id)).all() == [bank.rm_a.id]


def test_due_dates_fill_the_last_week_once(bank, db):
    verified_add(bank.rm_a, at(2))
    take_snapshot(dt.date(2025, 4, 21))
    assert due_dates(dt.date(2025, 4, 26)) == [dt.date(2025, 4, d) for d in (19, 20, 22, 23, 24,
                                                                              25)]
    taken = take_due_snapshots(dt.date(2025, 4, 26))
    assert taken == [dt.date(2025, 4, d) for d in (19, 20, 22, 23, 24, 25)]
    assert _snapshot_dates(db) == [dt.date(2025, 4, d) for d in range(19, 26)]
    assert take_due_snapshots(dt.date(2025, 4, 26)) == []  # idempotent per date
    assert len(due_dates(dt.date(2025, 5, 30))) == CATCH_UP_DAYS  # a longer gap: a week back


def test_the_scheduler_runs_the_snapshot_every_night_and_at_start(app):
    scheduler = BackgroundScheduler(timezone="Asia/Shanghai")
    assert install_jobs(scheduler, app) == [JOB_ID, REQUEUE_JOB_ID]
    jobs = {job.id: job for job in scheduler.get_jobs()}
    job = jobs[JOB_ID]
    assert "hour='0', minute='30'" in str(job.trigger)
    assert str(job.trigger.timezone) == "Asia/Shanghai"
    assert job.next_run_time is not None  # the catch-up when the scheduler starts
    assert jobs[REQUEUE_JOB_ID].trigger.interval == dt.timedelta(minutes=10)

    registered = BackgroundScheduler(timezone="Asia/Shanghai")
    install_registered_jobs(registered, app)
    assert JOB_ID in {job.id for job in registered.get_jobs()}


def test_cli_takes_a_snapshot_of_a_date(bank, db, runner):
    verified_add(bank.rm_a, at(2))
    db.session.commit()
    result = runner.invoke(args=["coverage", "snapshot", "--date", "2025-04-25"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"date": "2025-04-25", "rows": 1, "adds_rows": 1}
    assert _snapshot_dates(db) == [ON]


def test_the_page_reads_adds_from_the_snapshot_and_live_on_request(bank, db):
    verified_add(bank.rm_a, at(2))
    take_snapshot(ON)
    verified_add(bank.rm_a, at(26))  # after the snapshot
    manager = factories.UserFactory(role=Role.manager, branch=bank.branch)
    stored = coverage_overview(manager, None, dt.date(2025, 4, 27))
    assert (stored.as_of, stored.adds_through) == (ON, ON)
    assert [(r.staff, r.adds) for r in stored.adds] == [("t_rm_a", 1)]
    live = coverage_overview(manager, None, dt.date(2025, 4, 27), live=True)
    assert live.as_of is None and [(r.staff, r.adds) for r in live.adds] == [("t_rm_a", 2)]


def test_trends_per_subtree_and_for_the_rm(bank, db):
    verified_add(bank.rm_a, at(2))
    verified_add(bank.rm_c, at(2))
    factories.CustomerFactory(rm=bank.rm_c)
    for day in (23, 24, 25):
        take_snapshot(dt.date(2025, 4, day))
    manager = factories.UserFactory(role=Role.manager, branch=bank.branch)
    east = subtree_trend(manager, bank.east.id, ON)
    assert [(p["date"].day, p["covered"], p["customers"]) for p in east.points] == [
        (23, 1, 2), (24, 1, 2), (25, 1, 2)]
    assert "近 30 日" in east.title
    mine = my_trend(bank.rm_a, ON, days=2)
    assert [(p["date"].day, p["coverage_rate"]) for p in mine.points] == [(24, 1.0), (25, 1.0)]
