import datetime as dt

from sqlalchemy import select

from app.broadcasts.models import SopPlan
from app.content.models import TemplateStatus
from app.extensions import db as _db
from app.org.models import BranchLevel
from tests.factories import (
    BranchFactory,
    ContentTemplateFactory,
    SopPlanFactory,
    TaskFactory,
    UserFactory,
)


def test_editor_creates_a_plan_for_an_approved_template(client, login_as):
    hq = BranchFactory(level=BranchLevel.hq)
    template = ContentTemplateFactory(status=TemplateStatus.approved, title="环球早报")
    editor = UserFactory(role="editor", branch=hq)
    _db.session.commit()
    login_as(editor)
    page = client.get("/plans").get_data(as_text=True)
    assert "新建计划" in page and "环球早报" in page
    response = client.post("/plans", data={
        "name": "早报计划", "template_id": template.id, "branch_id": hq.id,
        "send_time": "08:30", "calendar": "XSHG",
    })
    assert response.status_code == 302
    plan = _db.session.scalar(select(SopPlan).where(SopPlan.name == "早报计划"))
    assert plan.send_time == dt.time(8, 30) and plan.calendar == "XSHG"
    assert plan.created_by_id == editor.id and plan.is_active
    assert "早报计划" in client.get("/plans").get_data(as_text=True)


def test_draft_templates_are_not_offered(client, login_as):
    ContentTemplateFactory(status=TemplateStatus.draft, title="草稿模板")
    editor = UserFactory(role="editor")
    _db.session.commit()
    login_as(editor)
    assert "草稿模板" not in client.get("/plans").get_data(as_text=True)


def test_editor_pauses_and_resumes_a_plan(client, login_as):
    plan = SopPlanFactory()
    editor = UserFactory(role="editor")
    _db.session.commit()
    login_as(editor)
    assert client.post(f"/plans/{plan.id}/toggle").status_code == 302
    _db.session.refresh(plan)
    assert plan.is_active is False
    client.post(f"/plans/{plan.id}/toggle")
    _db.session.refresh(plan)
    assert plan.is_active is True


def test_reviewer_sees_plans_but_cannot_create_or_toggle(client, login_as):
    plan = SopPlanFactory(name="只读计划")
    reviewer = UserFactory(role="reviewer")
    _db.session.commit()
    login_as(reviewer)
    page = client.get("/plans").get_data(as_text=True)
    assert "只读计划" in page and "新建计划" not in page
    assert client.post(f"/plans/{plan.id}/toggle").status_code == 403


def test_frontline_cannot_see_plans_or_tracking(client, login_as):
    user = UserFactory(role="frontline")
    _db.session.commit()
    login_as(user)
    assert client.get("/plans").status_code == 403
    assert client.get("/tracking").status_code == 403


def test_tracking_shows_execution_progress(client, login_as):
    task = TaskFactory(status="done", completed_at=dt.datetime(2025, 4, 25, 1, 0, tzinfo=dt.UTC))
    TaskFactory(post=task.post)
    editor = UserFactory(role="editor")
    _db.session.commit()
    login_as(editor)
    page = client.get("/tracking?date=2025-04-25").get_data(as_text=True)
    assert task.post.sop_plan.name in page
    assert "1 / 2" in page and "50.0%" in page
