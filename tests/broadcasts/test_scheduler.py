"""Issue 9: plan runs are rows; the scheduler is a clock that claims them.

Ticks are called with explicit instants (no waiting); the per-test transaction of the ``db``
fixture is the database here, except for the two-scheduler test, which needs two real
connections and uses a database of its own.
"""

import datetime as dt

import pytest
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import func, select

from app.broadcasts import jobs, runs
from app.broadcasts.calendars import runs_on
from app.broadcasts.models import PlanRun, Post, RunStatus
from app.broadcasts.scheduler import SchedulerAlreadyRunning, build_scheduler, single_instance_lock
from app.core.errors import Conflict
from app.core.extensions import db as _db
from app.org.models import BranchLevel
from tests.broadcasts.test_run_day import BRIEF, approved_template
from tests.factories import BranchFactory, SopPlanFactory, UserFactory

UTC = dt.UTC
CREATED = dt.datetime(2025, 1, 1, tzinfo=UTC)


def test_the_scheduler_keeps_jobs_in_memory_only(app):
    scheduler = build_scheduler(app, scheduler_class=BackgroundScheduler)
    assert list(scheduler._jobstores) == ["default"]
    assert isinstance(scheduler._jobstores["default"], MemoryJobStore)


def test_second_scheduler_process_is_refused(app):
    with single_instance_lock(app):
        with pytest.raises(SchedulerAlreadyRunning):
            with single_instance_lock(app):
                pass
    with single_instance_lock(app):  # released after the block
        pass


@pytest.fixture
def hourly(db):
    """A plan every hour on the hour (Asia/Shanghai) for three front-line staff."""
    hq = BranchFactory(level=BranchLevel.hq)
    for _ in range(3):
        UserFactory(role="frontline", branch=hq)
    return SopPlanFactory(template=approved_template(BRIEF), branch=hq, calendar="daily",
                          schedule="cron:0 * * * *", created_at=CREATED)


def _runs():
    return _db.session.scalars(select(PlanRun).order_by(PlanRun.scheduled_at)).all()


def test_a_tick_creates_coming_runs_and_publishes_the_due_one_once(hourly):
    now = dt.datetime(2025, 4, 25, 0, 0, 30, tzinfo=UTC)  # 08:00:30 in Shanghai
    counts = jobs.tick("a", now)
    assert counts["claimed"] == counts["published"] == 1
    published = [r for r in _runs() if r.status is RunStatus.published]
    assert [r.scheduled_at for r in published] == [dt.datetime(2025, 4, 25, 0, 0, tzinfo=UTC)]
    assert published[0].run_date == dt.date(2025, 4, 25) and published[0].attempts == 1
    assert published[0].claimed_by == "a" and published[0].post_id is not None
    pending = [r for r in _runs() if r.status is RunStatus.pending]
    assert len(pending) == 48  # the next two days, hour by hour
    assert jobs.tick("b", now)["claimed"] == 0  # a second scheduler or a restart
    assert _db.session.scalar(select(func.count(Post.id))) == 1


def test_a_three_hour_outage_catches_up_once_within_grace_and_marks_the_rest_missed(hourly):
    jobs.tick("a", dt.datetime(2025, 4, 24, 23, 59, tzinfo=UTC))  # 07:59 Shanghai, then down
    back = dt.datetime(2025, 4, 25, 3, 10, tzinfo=UTC)  # 11:10: 08:00 … 11:00 were due
    counts = jobs.tick("a", back)
    by_hour = {r.scheduled_at.hour: r for r in _runs()
               if dt.datetime(2025, 4, 25, tzinfo=UTC) <= r.scheduled_at <= back}
    for hour in (0, 1, 2):  # 08:00, 09:00, 10:00: due more than an hour ago
        assert by_hour[hour].status is RunStatus.missed, hour
        assert "超过补发宽限期（60 分钟）" in by_hour[hour].reason
        assert by_hour[hour].reason_code == "missed" and by_hour[hour].attempts == 0
    assert by_hour[3].status is RunStatus.published and by_hour[3].attempts == 1  # 11:00
    assert counts == {"created": counts["created"], "cancelled": 0, "missed": 3, "claimed": 1,
                      "published": 1, "failed": 0}
    assert jobs.tick("a", back + dt.timedelta(seconds=30))["claimed"] == 0


def test_a_paused_plans_pending_runs_are_cancelled(hourly):
    jobs.tick("a", dt.datetime(2025, 4, 24, 23, 30, tzinfo=UTC))
    hourly.is_active = False
    _db.session.flush()
    counts = jobs.tick("a", dt.datetime(2025, 4, 25, 0, 0, 5, tzinfo=UTC))
    assert counts["claimed"] == 0 and counts["cancelled"] == 48
    assert {r.status for r in _runs() if r.scheduled_at > dt.datetime(2025, 4, 24, 23, 30,
                                                                      tzinfo=UTC)} \
        == {RunStatus.cancelled}


def test_a_skipped_run_keeps_its_reason_and_an_editor_can_rerun_it(hourly):
    hourly.template.approved_version.body = "{{ market.NOPE.close }}"
    _db.session.flush()
    now = dt.datetime(2025, 4, 25, 0, 0, 30, tzinfo=UTC)
    jobs.tick("a", now)
    [skipped] = [r for r in _runs() if r.status is RunStatus.skipped]
    assert skipped.reason_code == "render_failed" and "market.NOPE" in skipped.reason
    editor = UserFactory(role="editor")
    with pytest.raises(Conflict):
        runs.rerun(editor, [r for r in _runs() if r.status is RunStatus.pending][0].id, now)
    hourly.template.approved_version.body = BRIEF
    _db.session.flush()
    later = now + dt.timedelta(minutes=10)
    runs.rerun(editor, skipped.id, later)
    assert jobs.tick("a", later + dt.timedelta(seconds=1))["published"] == 1
    _db.session.refresh(skipped)
    assert skipped.status is RunStatus.published and skipped.attempts == 2
    assert skipped.reason is None


def test_runs_of_a_plan_created_later_start_at_its_creation(hourly):
    hourly.created_at = dt.datetime(2025, 4, 25, 2, 30, tzinfo=UTC)
    _db.session.flush()
    jobs.tick("a", dt.datetime(2025, 4, 25, 2, 45, tzinfo=UTC))
    assert min(r.scheduled_at for r in _runs()) == dt.datetime(2025, 4, 25, 3, 0, tzinfo=UTC)


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


def test_runs_stay_within_the_plans_dates_and_run_count(hourly):
    hourly.schedule = "weekly:FRI,MON@08:00"
    hourly.start_date = dt.date(2025, 4, 25)
    hourly.end_date = dt.date(2025, 5, 9)
    hourly.max_runs = 3
    _db.session.flush()
    for day in range(19):  # a tick at noon every day from 04-24 to 05-12
        jobs.tick("a", dt.datetime(2025, 4, 24, 12, 0, tzinfo=UTC) + dt.timedelta(days=day))
    assert [r.run_date.isoformat() for r in _runs()] == ["2025-04-25", "2025-04-28",
                                                         "2025-05-02"]  # 3 runs, then none


def test_an_archived_plan_stops_and_cannot_be_resumed(hourly):
    from app.broadcasts.services import archive_plan, set_plan_active
    from app.core.errors import ValidationFailed

    jobs.tick("a", dt.datetime(2025, 4, 24, 23, 30, tzinfo=UTC))
    editor = UserFactory(role="editor")
    archive_plan(editor, hourly.id)
    counts = jobs.tick("a", dt.datetime(2025, 4, 25, 0, 0, 5, tzinfo=UTC))
    assert counts["claimed"] == 0 and counts["cancelled"] == 48
    with pytest.raises(ValidationFailed):
        set_plan_active(editor, hourly.id, True)


def test_an_editor_plans_with_a_schedule_expression_and_an_end_date(db, client, login_as):
    from app.broadcasts.models import SopPlan

    editor = login_as("editor")
    template = approved_template(BRIEF)
    response = client.post("/plans", data={
        "name": "周报", "template_id": template.id, "branch_ids": editor.branch_id,
        "send_time": "08:30", "calendar": "XSHG", "schedule": "weekly:MON,THU@09:00",
        "end_date": "2025-06-30", "max_runs": ""})
    assert response.status_code == 302
    plan = _db.session.scalars(select(SopPlan).where(SopPlan.name == "周报")).one()
    assert plan.schedule == "weekly:MON,THU@09:00" and plan.end_date == dt.date(2025, 6, 30)
    bad = client.post("/plans", data={
        "name": "坏", "template_id": template.id, "branch_ids": editor.branch_id,
        "send_time": "08:30", "calendar": "XSHG", "schedule": "weekly:XYZ@09:00"},
        follow_redirects=True).get_data(as_text=True)
    assert "未知的星期 XYZ" in bad
