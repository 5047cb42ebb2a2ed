import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from app.broadcasts import jobs
from app.broadcasts.calendars import runs_on
from app.broadcasts.scheduler import SchedulerAlreadyRunning, build_scheduler, single_instance_lock
from tests.factories import SopPlanFactory


def test_default_jobstore_is_persistent_in_app_database(app):
    scheduler = build_scheduler(app, scheduler_class=BackgroundScheduler)
    store = scheduler._jobstores["default"]
    assert isinstance(store, SQLAlchemyJobStore)
    assert store.engine.url.render_as_string(hide_password=False) == \
        app.config["SQLALCHEMY_DATABASE_URI"]
    store.engine.dispose()


def test_second_scheduler_process_is_refused(app):
    with single_instance_lock(app):
        with pytest.raises(SchedulerAlreadyRunning):
            with single_instance_lock(app):
                pass
    with single_instance_lock(app):  # released after the block
        pass


def test_sync_creates_one_cron_job_per_active_plan(app, db):
    active = SopPlanFactory(send_time=dt.time(8, 30), calendar="XSHG")
    SopPlanFactory(is_active=False)
    scheduler = build_scheduler(app, BackgroundScheduler, jobstore=MemoryJobStore())
    scheduler.start(paused=True)
    try:
        assert jobs.sync_plans(scheduler) == {"scheduled": 1, "removed": 0}
        job = scheduler.get_job(jobs.job_id(active.id))
        assert job.args == (active.id,)
        assert job.func is jobs.run_sop_job
        shanghai = ZoneInfo("Asia/Shanghai")
        fire = job.trigger.get_next_fire_time(None, dt.datetime(2025, 4, 25, 9, 0, tzinfo=shanghai))
        assert fire == dt.datetime(2025, 4, 28, 8, 30, tzinfo=shanghai)  # next Monday 08:30
        active.is_active = False
        db.session.flush()
        assert jobs.sync_plans(scheduler) == {"scheduled": 0, "removed": 1}
        assert scheduler.get_jobs() == []
    finally:
        scheduler.shutdown(wait=False)


def test_jobs_survive_a_restart_in_the_sqlalchemy_store(tmp_path, app):
    url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    first = BackgroundScheduler(jobstores={"default": SQLAlchemyJobStore(url=url)})
    first.start(paused=True)
    first.add_job(jobs.run_sop_job, "cron", hour=8, minute=30, args=[42], id="sop:42",
                  timezone="Asia/Shanghai")
    first.shutdown(wait=False)
    second = BackgroundScheduler(jobstores={"default": SQLAlchemyJobStore(url=url)})
    second.start(paused=True)
    try:
        job = second.get_job("sop:42")
        assert job is not None and job.args == (42,)
        assert job.func is jobs.run_sop_job
    finally:
        second.shutdown(wait=False)


@pytest.mark.parametrize("calendar, day, expected", [
    ("XSHG", dt.date(2025, 4, 25), True),
    ("XSHG", dt.date(2025, 1, 29), False),  # Lunar New Year
    ("XSHG", dt.date(2025, 4, 26), False),  # Saturday
    ("weekdays", dt.date(2025, 1, 29), True),
    ("daily", dt.date(2025, 4, 26), True),
])
def test_run_days(calendar, day, expected):
    assert runs_on(calendar, day) is expected


def test_unknown_calendar_is_an_error():
    with pytest.raises(ValueError):
        runs_on("NOPE", dt.date(2025, 4, 25))
