"""Issue 9: 日跟踪 shows every plan run of the day with status and reason; re-run; /healthz."""

import datetime as dt

from sqlalchemy import select

from app.broadcasts import jobs
from app.broadcasts.models import PlanRun, RunStatus
from app.core.extensions import db as _db
from app.org.models import BranchLevel
from tests.broadcasts.test_run_day import BRIEF, approved_template
from tests.factories import BranchFactory, SopPlanFactory, UserFactory

NOW = dt.datetime(2025, 4, 25, 0, 0, 30, tzinfo=dt.UTC)


def _skipped_run(db, role="editor"):
    """A plan run skipped for a missing figure, and a user of ``role`` in the plan's branch.

    The user exists before the tick commits, so a request that rolls back keeps it.
    """
    hq = BranchFactory(level=BranchLevel.hq)
    UserFactory(role="frontline", branch=hq)
    viewer = UserFactory(role=role, branch=hq)
    body = BRIEF + "{{ market.NOPE.close }}"
    plan = SopPlanFactory(name="早报计划", template=approved_template(body), branch=hq,
                          calendar="daily", schedule="cron:0 8 * * *",
                          created_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    jobs.tick("test", NOW)
    run = _db.session.scalars(select(PlanRun).where(PlanRun.sop_plan_id == plan.id,
                                                    PlanRun.status == RunStatus.skipped)).one()
    return run, viewer


def test_tracking_lists_each_plan_run_with_status_and_reason(db, client, login_as):
    run, manager = _skipped_run(db, "manager")
    login_as(manager)
    page = client.get("/tracking?date=2025-04-25").get_data(as_text=True)
    assert "计划运行" in page and "早报计划" in page and "已跳过" in page
    assert "缺少数据 market.NOPE" in page
    assert f"/runs/{run.id}/rerun" not in page  # only editors re-run


def test_an_editor_reruns_a_skipped_run(db, client, login_as):
    run, editor = _skipped_run(db)
    login_as(editor)
    page = client.get("/tracking?date=2025-04-25").get_data(as_text=True)
    assert f"/runs/{run.id}/rerun" in page
    response = client.post(f"/runs/{run.id}/rerun", data={"date": "2025-04-25"})
    assert response.status_code == 302 and "date=2025-04-25" in response.location
    _db.session.refresh(run)
    assert run.status is RunStatus.pending and run.finished_at is None
    again = client.post(f"/runs/{run.id}/rerun", data={"date": "2025-04-25"},
                        follow_redirects=True).get_data(as_text=True)
    assert "只有已跳过或失败的运行可以重新运行" in again


def test_a_manager_cannot_rerun(db, client, login_as):
    run, manager = _skipped_run(db, "manager")
    login_as(manager)
    assert client.post(f"/runs/{run.id}/rerun").status_code == 403
    _db.session.refresh(run)
    assert run.status is RunStatus.skipped


def test_healthz_reports_the_last_tick_and_overdue_runs(db, client):
    before = client.get("/healthz").get_json()
    assert before["scheduler"] == {"last_tick_at": None, "overdue_runs": 0}
    _skipped_run(db)
    body = client.get("/healthz").get_json()
    assert body["scheduler"]["last_tick_at"] == NOW.isoformat()
    # the runs of the next two days are pending and not due yet in 2025; now is later
    assert body["scheduler"]["overdue_runs"] > 0


def test_the_calendar_shows_past_run_statuses_and_coming_occurrences(db, client, login_as,
                                                                    app, monkeypatch):
    monkeypatch.setitem(app.config, "BUSINESS_DATE", "2025-04-25")
    run, editor = _skipped_run(db)
    weekly = SopPlanFactory(name="周二早报", template=run.sop_plan.template,
                            branch=run.sop_plan.branch, calendar="daily",
                            schedule="weekly:TUE@09:15", end_date=dt.date(2025, 5, 6),
                            created_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    login_as(editor)
    page = client.get("/plans/calendar").get_data(as_text=True)
    assert "计划日历" in page and "已跳过" in page and "缺少数据 market.NOPE" in page
    assert page.count(weekly.name) == 2  # Tuesdays 04-29 and 05-06, then the end date
    assert "2025-04-29" in page and "计划中" in page


def test_the_calendar_says_which_post_goes_to_whom_and_which_revision_ran(db, client, login_as,
                                                                          app, monkeypatch):
    from app.broadcasts.plan_rules import PlanInput
    from app.broadcasts.services import create_plan, edit_plan
    from app.content.models import Channel

    monkeypatch.setitem(app.config, "BUSINESS_DATE", "2025-04-25")
    run, editor = _skipped_run(db)
    hq = run.sop_plan.branch
    east = BranchFactory(parent=hq, name="东区分行")
    west = BranchFactory(parent=hq, name="西区分行")
    data = PlanInput("周二群发", run.sop_plan.template_id, [east.id, west.id], dt.time(9, 15),
                     schedule="weekly:TUE@09:15", end_date=dt.date(2025, 5, 6),
                     channel=Channel.mass_message)
    plan = create_plan(editor, data)
    data.name = "周二群发（改）"
    edit_plan(editor, plan.id, data)
    db.session.commit()
    login_as(editor)
    page = client.get("/plans/calendar").get_data(as_text=True)
    rows = [row for row in page.split("<tr") if "周二群发（改）" in row]
    assert len(rows) == 2 and all("东区分行、西区分行" in row and "群发" in row for row in rows)
    assert all("第 2 版" in row for row in rows)
    skipped = next(row for row in page.split("<tr") if "已跳过" in row)
    assert "第 1 版" in skipped
