"""Issue 9: wordings 措辞 in the daily run.

Each wording is rendered once and checked once, for the staff it is assigned to; the texts
are byte-identical to one render per staff member of their wording; the assignment is
deterministic (rank by id within the sub-branch, rotating by run date).
"""

import datetime as dt
import hashlib
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app.broadcasts import plan_texts
from app.broadcasts.models import PostText, Task
from app.broadcasts.plan_texts import StaffRow, ValueChecker, base_context
from app.broadcasts.run_day import run_day
from app.broadcasts.variants import assign_variants, render_variants
from app.content.library import load_library
from app.content.models import TemplateVariant
from app.content.rendering import placeholder_chart_urls
from app.core.extensions import db as _db
from app.market.services import market_context
from app.org.models import BranchLevel
from app.rendering.sandbox import render_body
from tests.broadcasts.test_plan_texts import STAFF
from tests.broadcasts.test_run_day import approved_template
from tests.factories import BranchFactory, SopPlanFactory, UserFactory

LIBRARY = Path(__file__).resolve().parents[2] / "content_templates"
RUN_DATE = dt.date(2025, 4, 25)
WORDINGS = [
    "{{ date }} 早安，{{ staff.name }}（{{ staff.branch }}）为您整理：上证指数收于"
    "{{ market.SSE.close|num }}点（截至{{ market.SSE.as_of }}，"
    "数据来源：{{ market.SSE.source }}）。市场有风险，投资须谨慎。",
    "【{{ date }}】上证指数 {{ market.SSE.close|num }} 点（{{ market.SSE.as_of }} 收盘，"
    "数据来源：{{ market.SSE.source }}）。市场有风险，投资须谨慎。—— {{ staff.name }}",
    "{{ staff.branch }} {{ staff.name|length }}：上证指数 {{ market.SSE.close|num }} 点"
    "（截至{{ market.SSE.as_of }}，数据来源：{{ market.SSE.source }}）。市场有风险，投资须谨慎。",
]


def with_variants(bodies, **kwargs):
    """An approved template whose version has these wordings (variant 0 first)."""
    template = approved_template(bodies[0], chart_spec=None, **kwargs)
    for number, body in enumerate(bodies[1:], start=1):
        _db.session.add(TemplateVariant(version_id=template.approved_version.id, variant=number,
                                        body=body,
                                        body_sha256=hashlib.sha256(body.encode()).hexdigest()))
    _db.session.flush()
    _db.session.refresh(template.approved_version, ["extra_variants"])
    return template


@pytest.fixture
def context(app, db):
    return base_context(RUN_DATE, market_context(RUN_DATE), placeholder_chart_urls(RUN_DATE))


def _rows(*branch_ids):
    return [SimpleNamespace(id=i, branch_id=b) for i, b in branch_ids]


def test_assignment_spreads_each_sub_branch_over_the_wordings():
    # ids of one sub-branch are not consecutive: 3, 5, 7, 9 (mod 2 would give them one wording)
    staff = _rows((3, 1), (5, 1), (7, 1), (9, 1), (4, 2), (6, 2), (8, 2))
    got = assign_variants(staff, 2, RUN_DATE)
    assert sorted(got[:4]) == [0, 0, 1, 1] and sorted(got[4:]) in ([0, 0, 1], [0, 1, 1])
    three = assign_variants(staff[:3], 3, RUN_DATE)
    assert sorted(three) == [0, 1, 2]  # no two of a small sub-branch share a wording


def test_assignment_is_deterministic_and_rotates_by_day():
    staff = _rows((11, 1), (12, 1), (13, 1), (20, 2))
    today = assign_variants(staff, 3, RUN_DATE)
    assert assign_variants(list(reversed(staff)), 3, RUN_DATE) == list(reversed(today))
    assert assign_variants(staff, 3, RUN_DATE) == today
    tomorrow = assign_variants(staff, 3, RUN_DATE + dt.timedelta(days=1))
    assert tomorrow == [(v + 1) % 3 for v in today]
    # rank r on date D gets (r + D.toordinal()) mod n
    assert today[:3] == [(r + RUN_DATE.toordinal()) % 3 for r in range(3)]
    assert assign_variants(staff, 1, RUN_DATE) == [0, 0, 0, 0]
    with pytest.raises(ValueError):
        assign_variants(staff, 0, RUN_DATE)


@pytest.mark.parametrize("entry", [e for e in load_library(LIBRARY) if e.variants],
                         ids=lambda e: e.slug)
def test_library_wordings_render_once_byte_identical_to_per_staff(entry, context):
    bodies = [entry.body, *entry.variants]
    staff = [row._replace(branch_id=1) for row in STAFF]
    texts = render_variants(bodies, plan_texts.RuleTarget(entry.product, entry.content_kind),
                            context, staff, ValueChecker(), RUN_DATE)
    assigned = assign_variants(staff, len(bodies), RUN_DATE)
    assert all(t is not None and t.segments is not None for t in texts)
    for variant, got in enumerate(texts):
        members = [row for row, v in zip(staff, assigned, strict=True) if v == variant]
        assert got.staff == members
        assert [got.text_of(i) for i in range(len(members))] == [
            render_body(bodies[variant], {**context, "staff": row.fields()}) for row in members]


def test_each_wording_is_rendered_once_and_checked_once(context, monkeypatch):
    renders, checks = [], []
    real_render, real_check = plan_texts.render_isolated_many, plan_texts.check_rendered
    monkeypatch.setattr(plan_texts, "render_isolated_many",
                        lambda body, contexts: renders.append(len(contexts))
                        or real_render(body, contexts))
    monkeypatch.setattr(plan_texts, "check_rendered",
                        lambda text, *a, **k: checks.append(text) or real_check(text, *a, **k))
    staff = [StaffRow(i, f"员工{i}", "一支行", 1) for i in range(1, 8)]
    render_variants(WORDINGS[:2], plan_texts.RuleTarget("general", "market_commentary"),
                    context, staff, ValueChecker(), RUN_DATE)
    assert renders == [1, 1] and len(checks) == 2


def test_run_day_gives_each_staff_member_their_wording_byte_for_byte(db, context):
    hq = BranchFactory(level=BranchLevel.hq)
    subs = [BranchFactory(parent=hq, name=name) for name in ("城东支行", "城西支行")]
    for index in range(7):
        UserFactory(role="frontline", branch=subs[index % 2])
    plan = SopPlanFactory(template=with_variants(WORDINGS), branch=hq, calendar="daily")
    result = run_day(RUN_DATE, refresh_market=False)
    assert result.tasks_created == 7 and result.posts_skipped == []
    tasks = _db.session.scalars(select(Task).order_by(Task.staff_id)).all()
    staff = [StaffRow(t.staff_id, t.staff.display_name, t.staff.branch.name,
                      t.staff.branch_id) for t in tasks]
    assigned = assign_variants(staff, 3, RUN_DATE)
    texts = _db.session.scalars(select(PostText).order_by(PostText.variant)).all()
    assert [t.variant for t in texts] == [0, 1, 2]
    for task, row, variant in zip(tasks, staff, assigned, strict=True):
        assert task.post_text.variant == variant
        expected = render_body(WORDINGS[variant], {**context, "staff": row.fields()})
        assert task.text == expected
        # wordings 0 and 1 substitute the names; wording 2 filters one, so its tasks keep
        # their own body
        assert (task.body is None) == (variant != 2)
    for sub in subs:  # a sub-branch does not post one identical text
        assert len({v for t, v in zip(tasks, assigned, strict=True)
                    if t.staff.branch_id == sub.id}) >= 2
    assert plan.id in result.post_ids
    again = run_day(RUN_DATE, refresh_market=False)
    assert again.tasks_created == 0


def test_a_failing_wording_skips_the_plan_naming_it(db):
    hq = BranchFactory(level=BranchLevel.hq)
    for _ in range(2):
        UserFactory(role="frontline", branch=hq)
    bad = "{{ date }} {{ staff.name }}：本产品保本保收益，稳赚不赔。市场有风险，投资须谨慎。"
    SopPlanFactory(template=with_variants([WORDINGS[0], bad]), branch=hq, calendar="daily")
    result = run_day(RUN_DATE, refresh_market=False)
    [skipped] = result.posts_skipped
    assert skipped.code == "compliance" and skipped.reason.startswith("措辞 2：合规检查未通过")
    assert skipped.rule_ids and _db.session.scalar(select(Task.id)) is None
