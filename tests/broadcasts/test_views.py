import datetime as dt

from sqlalchemy import select

from app.broadcasts.models import SopPlan
from app.content.models import TemplateStatus
from app.core.extensions import db as _db
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
        "name": "早报计划", "template_id": template.id, "branch_ids": hq.id,
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


def test_duplicate_active_plan_is_refused(client, login_as):
    hq = BranchFactory(level=BranchLevel.hq)
    template = ContentTemplateFactory(status=TemplateStatus.approved)
    SopPlanFactory(name="原计划", template=template, branch=hq, send_time=dt.time(8, 30))
    editor = UserFactory(role="editor", branch=hq)
    _db.session.commit()
    login_as(editor)
    form = {"name": "重复计划", "template_id": template.id, "branch_ids": hq.id,
            "send_time": "08:30", "calendar": "XSHG"}
    page = client.post("/plans", data=form, follow_redirects=True).get_data(as_text=True)
    assert "已有运行中的计划「原计划」" in page
    assert _db.session.scalar(select(SopPlan).where(SopPlan.name == "重复计划")) is None
    form.update(name="九点计划", send_time="09:00")  # another time is a different plan
    assert client.post("/plans", data=form).status_code == 302


def test_duplicate_check_ignores_paused_plans(db):
    from app.broadcasts.plan_rules import PlanInput
    from app.broadcasts.services import create_plan

    plan = SopPlanFactory(is_active=False,
                          template=ContentTemplateFactory(status=TemplateStatus.approved))
    editor = UserFactory(role="editor")
    created = create_plan(editor, PlanInput("新计划", plan.template_id, [plan.branch_id],
                                            plan.send_time))
    assert created.id != plan.id


def test_plans_page_flags_retired_templates_and_confirms_pause(client, login_as):
    retired = ContentTemplateFactory(status=TemplateStatus.retired, title="旧模板")
    SopPlanFactory(template=retired, name="旧计划")
    editor = UserFactory(role="editor")
    _db.session.commit()
    login_as(editor)
    page = client.get("/plans").get_data(as_text=True)
    assert "模板已停用" in page and "不会发送" in page
    assert "onsubmit=\"return confirm('确定暂停" in page
    assert "（北京时间）" in page and "Asia/Shanghai" not in page


def test_tracking_lists_staff_who_have_not_completed(client, login_as):
    sub = BranchFactory(name="西湖支行")
    task = TaskFactory(status="done", completed_at=dt.datetime(2025, 4, 25, 1, 0, tzinfo=dt.UTC),
                       staff=UserFactory(display_name="已完成员工", branch=sub))
    TaskFactory(post=task.post, staff=UserFactory(display_name="待完成员工", branch=sub))
    TaskFactory(post=task.post, staff=UserFactory(display_name="别行员工"))
    manager = UserFactory(role="manager", branch=sub)
    _db.session.commit()
    login_as(manager)
    page = client.get("/tracking?date=2025-04-25").get_data(as_text=True)
    pending = page[page.index(f'id="pending-{task.post_id}"'):]
    pending = pending[:pending.index("</details>")]
    assert "未完成 1 人" in pending and "待完成员工（西湖支行）" in pending
    assert "已完成员工" not in pending and "别行员工" not in page
    assert '<a href="/tracking" class="active">日跟踪</a>' in page


def test_tracking_with_an_invalid_date_says_so(client, login_as, app, monkeypatch):
    monkeypatch.setitem(app.config, "BUSINESS_DATE", "2025-04-25")
    editor = UserFactory(role="editor")
    _db.session.commit()
    login_as(editor)
    page = client.get("/tracking?date=abc").get_data(as_text=True)
    assert "日期格式无效，已显示 2025-04-25" in page
