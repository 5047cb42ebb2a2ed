"""Data scope: front-line users see only their own tasks; managers only their branch subtree."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from app.auth.services import issue_api_token
from app.broadcasts import services as plans
from app.broadcasts.models import SopPlan, TaskStatus
from app.broadcasts.plan_rules import PlanInput
from app.content.models import TemplateStatus
from app.core.errors import PermissionDenied, ValidationFailed
from app.interactions.models import InteractionEvent
from app.org.models import BranchLevel, Role
from tests.factories import (
    BranchFactory,
    ContentTemplateFactory,
    PostFactory,
    SopPlanFactory,
    TaskFactory,
    UserFactory,
)
from tests.security.conftest import DAY

DUE = dt.datetime(2025, 4, 25, 2, 30, tzinfo=dt.UTC)


@pytest.fixture
def tree(db):
    """HQ → 分行X (支行x1) and its sibling 分行Y (支行y1), each with one front-line user.

    Plans: ``plan_hq`` (whole bank: tasks for both staff), ``plan_x`` and ``plan_y``
    (one branch each), all with a post on ``DAY``. ``manager`` runs 分行X.
    """
    hq = BranchFactory(level=BranchLevel.hq, name="总行")
    branch_x = BranchFactory(level=BranchLevel.branch, name="分行X", parent=hq)
    branch_y = BranchFactory(level=BranchLevel.branch, name="分行Y", parent=hq)
    sub_x = BranchFactory(name="支行x1", parent=branch_x)
    sub_y = BranchFactory(name="支行y1", parent=branch_y)
    staff_x = UserFactory(role=Role.frontline, branch=sub_x, display_name="员工甲X")
    staff_y = UserFactory(role=Role.frontline, branch=sub_y, display_name="员工乙Y")
    manager = UserFactory(role=Role.manager, branch=branch_x)
    template = ContentTemplateFactory(status=TemplateStatus.approved)
    plan_hq = SopPlanFactory(name="全行早报计划", template=template, branch=hq)
    plan_x = SopPlanFactory(name="分行X专属计划", template=template, branch=branch_x)
    plan_y = SopPlanFactory(name="分行Y专属计划", template=template, branch=branch_y)
    posts = {plan.id: PostFactory(sop_plan=plan, run_date=DAY)
             for plan in (plan_hq, plan_x, plan_y)}
    task_hq_x = TaskFactory(post=posts[plan_hq.id], staff=staff_x, due_at=DUE, body="甲的全行任务")
    task_hq_y = TaskFactory(post=posts[plan_hq.id], staff=staff_y, due_at=DUE, body="乙的全行任务")
    TaskFactory(post=posts[plan_x.id], staff=staff_x, due_at=DUE, status=TaskStatus.done,
                completed_at=DUE, reach_count=10, body="甲的分行任务")
    task_y = TaskFactory(post=posts[plan_y.id], staff=staff_y, due_at=DUE, body="乙的分行任务")
    db.session.commit()
    return SimpleNamespace(
        hq=hq, branch_x=branch_x, branch_y=branch_y, staff_x=staff_x, staff_y=staff_y,
        manager=manager, template=template, plan_hq=plan_hq, plan_x=plan_x, plan_y=plan_y,
        task_hq_x=task_hq_x, task_hq_y=task_hq_y, task_y=task_y)


def _bearer(db, user) -> dict:
    token = issue_api_token(user)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def _event_count(db, task_id: int) -> int:
    return db.session.scalar(
        select(func.count(InteractionEvent.id)).where(InteractionEvent.task_id == task_id))


# --- front line: A cannot read or change B's tasks -------------------------------------------

def test_frontline_page_and_api_list_only_own_tasks(client, db, sign_in, tree):
    sign_in(tree.staff_x)
    page = client.get("/today").get_data(as_text=True)
    assert "甲的全行任务" in page and "甲的分行任务" in page
    assert "乙的" not in page
    feed = client.get("/api/v1/feed/today", headers=_bearer(db, tree.staff_x)).get_json()
    ids = {task["id"] for task in feed["tasks"]}
    assert tree.task_hq_x.id in ids
    assert ids.isdisjoint({tree.task_hq_y.id, tree.task_y.id})


def test_frontline_cannot_complete_anothers_task(client, db, sign_in, tree):
    sign_in(tree.staff_x)
    client.post(f"/today/tasks/{tree.task_y.id}/complete", data={"reach_count": "5"})
    api = client.post(f"/api/v1/tasks/{tree.task_y.id}/complete", json={"reach_count": 5},
                      headers=_bearer(db, tree.staff_x))
    assert api.status_code == 404
    assert api.get_json() == {"error": "任务不存在"}  # same answer as a task that does not exist
    db.session.refresh(tree.task_y)
    assert tree.task_y.status is TaskStatus.assigned and tree.task_y.reach_count is None


def test_frontline_cannot_log_interactions_on_anothers_task(client, db, sign_in, tree):
    sign_in(tree.staff_x)
    client.post(f"/tasks/{tree.task_y.id}/interactions",
                data={"event_id": "form-evt-1", "kind": "like", "quantity": "3"})
    response = client.post("/api/v1/interactions", headers=_bearer(db, tree.staff_x), json={
        "events": [{"event_id": "api-evt-1", "task_id": tree.task_y.id, "kind": "like",
                    "quantity": 3}]})
    [item] = response.get_json()["results"]
    assert item["status"] == "error"
    assert _event_count(db, tree.task_y.id) == 0


# --- managers: own subtree only ----------------------------------------------------------------

def test_manager_plan_list_shows_plans_reaching_the_subtree_not_siblings(client, sign_in, tree):
    """HQ-wide plans reach the manager's staff, so they are listed; a sibling's plan is not."""
    names = {plan.name for plan in plans.list_plans(tree.manager)}
    assert names == {"全行早报计划", "分行X专属计划"}
    sign_in(tree.manager)
    page = client.get("/plans").get_data(as_text=True)
    assert "全行早报计划" in page and "分行X专属计划" in page
    assert "分行Y专属计划" not in page


def test_manager_tracking_counts_only_subtree_tasks(client, sign_in, tree):
    rows = {row.sop_name: (row.assigned, row.done) for row in plans.posts_on(tree.manager, DAY)}
    assert rows == {"全行早报计划": (1, 0), "分行X专属计划": (1, 1)}
    sign_in(tree.manager)
    page = client.get(f"/tracking?date={DAY.isoformat()}").get_data(as_text=True)
    assert "分行X专属计划" in page and "分行Y专属计划" not in page


@pytest.mark.parametrize("path", ["/metrics/scorecard", "/metrics/scorecard.csv",
                                  "/metrics/scorecard/chart.png"])
def test_manager_cannot_open_a_sibling_branch_scorecard(client, sign_in, tree, path):
    sign_in(tree.manager)
    response = client.get(f"{path}?branch_id={tree.branch_y.id}&period=daily&end={DAY}")
    assert response.status_code == 403
    assert client.get(f"{path}?branch_id={tree.hq.id}&period=daily&end={DAY}").status_code == 403


def test_manager_default_scorecard_has_only_subtree_staff(client, sign_in, tree):
    sign_in(tree.manager)
    page = client.get(f"/metrics/scorecard?period=daily&end={DAY}").get_data(as_text=True)
    assert "员工甲X" in page and "员工乙Y" not in page and "支行y1" not in page
    csv = client.get(f"/metrics/scorecard.csv?period=daily&end={DAY}").get_data(as_text=True)
    assert "员工甲X" in csv and "员工乙Y" not in csv


# --- SOP plan creation validates role and branch ---------------------------------------------

def test_create_plan_rejects_unknown_branch_and_non_editors(db, tree):
    editor = UserFactory(role=Role.editor, branch=tree.hq)
    with pytest.raises(ValidationFailed) as error:
        plans.create_plan(editor, PlanInput("坏计划", tree.template.id, [999_999],
                                            dt.time(8, 30)))
    assert "branch_ids" in error.value.errors
    with pytest.raises(PermissionDenied):
        plans.create_plan(tree.manager, PlanInput("越权计划", tree.template.id,
                                                  [tree.branch_x.id], dt.time(8, 30)))


def test_plan_form_rejects_branch_outside_choices_and_managers(client, db, sign_in, tree):
    data = {"name": "越界计划", "template_id": tree.template.id, "branch_ids": 999_999,
            "send_time": "08:30", "calendar": "XSHG"}
    sign_in(UserFactory(role=Role.editor, branch=tree.hq))
    db.session.commit()
    assert client.post("/plans", data=data).status_code == 200  # form re-rendered with errors
    sign_in(tree.manager)
    assert client.post("/plans", data={**data, "branch_ids": tree.branch_x.id}).status_code == 403
    assert db.session.scalar(
        select(func.count(SopPlan.id)).where(SopPlan.name == "越界计划")) == 0
