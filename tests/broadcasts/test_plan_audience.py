"""Issue 9: a plan's channel and audience (several branches, 群发 segments); seasonal templates."""

import datetime as dt

import pytest
from sqlalchemy import func, select

from app.broadcasts.audience import audience_of, audience_staff
from app.broadcasts.models import Task
from app.broadcasts.plan_models import PlanAudience
from app.broadcasts.plan_rules import PlanInput
from app.broadcasts.run_day import run_day
from app.broadcasts.services import create_plan, edit_plan, list_plans
from app.content.models import Channel, ContentKind
from app.core.errors import ValidationFailed
from app.core.extensions import db as _db
from app.org.models import BranchLevel
from tests.broadcasts.test_run_day import BRIEF, STORED, approved_template
from tests.factories import BranchFactory, UserFactory, segment


@pytest.fixture
def org(db):
    """HQ with branches A (sub-branches a1, a2) and B (b1); staff in a1 ×2, a2, b1, HQ."""
    hq = BranchFactory(level=BranchLevel.hq, name="总行")
    a = BranchFactory(parent=hq, name="甲分行", level=BranchLevel.branch)
    b = BranchFactory(parent=hq, name="乙分行", level=BranchLevel.branch)
    a1, a2 = BranchFactory(parent=a, name="甲一支行"), BranchFactory(parent=a, name="甲二支行")
    b1 = BranchFactory(parent=b, name="乙一支行")
    staff = {"a1": [UserFactory(role="frontline", branch=a1) for _ in range(2)],
             "a2": [UserFactory(role="frontline", branch=a2)],
             "b1": [UserFactory(role="frontline", branch=b1)],
             "hq": [UserFactory(role="frontline", branch=hq)]}
    UserFactory(role="frontline", branch=a1, is_active_account=False)
    editor = UserFactory(role="editor", branch=hq)
    return type("Org", (), dict(hq=hq, a=a, b=b, a1=a1, a2=a2, b1=b1, staff=staff,
                                editor=editor))


def _input(template, branches, **changes):
    return PlanInput(changes.pop("name", "早报"), template.id, [b.id for b in branches],
                     dt.time(8, 30), calendar="weekdays", **changes)


def test_staff_are_the_union_of_the_audience_subtrees_each_once(org):
    staff = audience_staff([org.a.path, org.a1.path, org.b1.path])
    expected = org.staff["a1"] + org.staff["a2"] + org.staff["b1"]
    assert [row.id for row in staff] == sorted(user.id for user in expected)


def test_a_plan_for_two_branches_gives_their_staff_one_task_each(org):
    plan = create_plan(org.editor, _input(approved_template(BRIEF), [org.a, org.a1, org.b1]))
    assert audience_of(plan).branch_ids == [org.a.id, org.a1.id, org.b1.id]
    assert plan.branch_id == org.a.id
    result = run_day(STORED, refresh_market=False)
    assert result.tasks_created == 4
    assert set(_db.session.scalars(select(Task.staff_id))) == {
        u.id for key in ("a1", "a2", "b1") for u in org.staff[key]}


def test_the_channel_defaults_to_the_templates_and_can_be_chosen(org):
    template = approved_template(BRIEF)
    assert create_plan(org.editor, _input(template, [org.a])).channel is template.channel
    chosen = create_plan(org.editor, _input(template, [org.b], name="群发早报",
                                            channel=Channel.mass_message))
    assert chosen.channel is Channel.mass_message


def test_segments_only_for_mass_messages_and_stored_in_the_audience(org):
    template = approved_template(BRIEF)
    vip = segment("vip")
    with pytest.raises(ValidationFailed) as error:
        create_plan(org.editor, _input(template, [org.a], channel=Channel.moments_post,
                                       segment_ids=[vip.id]))
    assert error.value.errors["segment_ids"] == "只有群发计划可以按客群筛选客户"
    plan = create_plan(org.editor, _input(template, [org.a], channel=Channel.mass_message,
                                          segment_ids=[vip.id]))
    assert audience_of(plan).segment_codes == ["vip"]
    assert audience_of(plan).label == "甲分行 · 客群：贵宾"
    assert _db.session.scalar(select(func.count(PlanAudience.id)).where(
        PlanAudience.sop_plan_id == plan.id)) == 2


def test_an_edit_replaces_the_audience(org):
    template = approved_template(BRIEF)
    plan = create_plan(org.editor, _input(template, [org.a, org.b]))
    edit_plan(org.editor, plan.id, _input(template, [org.b1]))
    assert audience_of(plan).branch_ids == [org.b1.id] and plan.branch_id == org.b1.id
    assert plan.revision == 2


def test_a_manager_sees_plans_whose_audience_reaches_their_subtree(org):
    template = approved_template(BRIEF)
    create_plan(org.editor, _input(template, [org.a1, org.b1], name="两地"))
    create_plan(org.editor, _input(template, [org.a2], name="只甲二"))
    manager = UserFactory(role="manager", branch=org.b)
    assert [p.name for p in list_plans(manager)] == ["两地"]


def test_no_branch_is_refused(org):
    with pytest.raises(ValidationFailed) as error:
        create_plan(org.editor, _input(approved_template(BRIEF), []))
    assert error.value.errors["branch_ids"] == "请至少选择一个下发机构"


# --- seasonal templates ------------------------------------------------------------------------

@pytest.fixture
def greeting(org):
    template = approved_template("春节快乐！{{ staff.name }}")
    template.content_kind = ContentKind.greeting
    template.title = "春节问候"
    template.valid_from_date, template.valid_until_date = dt.date(2025, 1, 20), dt.date(2025, 2, 12)
    _db.session.flush()
    return template


@pytest.mark.parametrize("changes", [
    {"schedule": "once:2025-01-29T08:00"},
    {"schedule": "working-days@09:00", "start_date": dt.date(2025, 1, 20),
     "end_date": dt.date(2025, 2, 12)},
])
def test_a_seasonal_template_is_planned_once_or_inside_its_window(org, greeting, changes):
    assert create_plan(org.editor, _input(greeting, [org.a], **changes)).id


@pytest.mark.parametrize("changes", [
    {"schedule": "working-days@09:00"},  # no dates
    {"schedule": "working-days@09:00", "start_date": dt.date(2025, 1, 20),
     "end_date": dt.date(2025, 3, 1)},  # ends after the window
    {"schedule": "once:2025-03-01T08:00"},  # once, outside the window
])
def test_a_seasonal_template_outside_its_window_is_refused_with_the_window(org, greeting,
                                                                          changes):
    with pytest.raises(ValidationFailed) as error:
        create_plan(org.editor, _input(greeting, [org.a], **changes))
    assert error.value.errors["schedule"] == (
        "「春节问候」是时令模板，有效期 2025-01-20 至 2025-02-12：只能用 once 规则在有效期内"
        "单次发送，或把开始日期和结束日期都设在有效期内")


def test_a_plan_outside_a_managers_scope_is_not_found(org, client, login_as):
    template = approved_template(BRIEF)
    only_a = create_plan(org.editor, _input(template, [org.a2], name="只甲二"))
    both = create_plan(org.editor, _input(template, [org.a1, org.b1], name="两地"))
    manager = UserFactory(role="manager", branch=org.b)
    _db.session.commit()
    login_as(manager)
    assert client.get(f"/plans/{only_a.id}").status_code == 404
    page = client.get(f"/plans/{both.id}").get_data(as_text=True)
    assert "甲一支行、乙一支行" in page and "修改计划" not in page
