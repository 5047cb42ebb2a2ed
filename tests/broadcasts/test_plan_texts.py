"""Issue 9: render once, check once; byte-identical to one render per staff member."""

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from app.broadcasts import plan_texts
from app.broadcasts.models import Task
from app.broadcasts.plan_texts import (
    PlanSkipped,
    StaffRow,
    ValueChecker,
    base_context,
    render_plan_texts,
)
from app.broadcasts.run_day import run_day
from app.content.library import load_library
from app.content.rendering import placeholder_chart_urls
from app.content.substitution import prints_staff_fields_only
from app.core.extensions import db as _db
from app.market.services import market_context
from app.org.models import BranchLevel
from app.rendering.sandbox import render_body
from tests.broadcasts.test_run_day import approved_template
from tests.factories import BranchFactory, SopPlanFactory, UserFactory

LIBRARY = Path(__file__).resolve().parents[2] / "content_templates"
RUN_DATE = dt.date(2025, 4, 25)
#: Names that would break a naive substitution: Jinja syntax, regex and format characters,
#: markers' neighbours, whitespace, an empty branch, a long name.
STAFF = [
    StaffRow(1, "张三", "杭州分行营业部"),
    StaffRow(2, "{{ staff.name }}", "{% raw %}"),
    StaffRow(3, "\\1 $0 %s {0}", ""),
    StaffRow(4, "  李 四\n", "宁波·鄞州支行"),
    StaffRow(5, "王" * 200, "支行" * 50),
]
FALLBACKS = {
    "filter": "你好，{{ staff.name|upper }}。",
    "condition": "{% if staff.branch %}{{ staff.branch }}{% else %}总行{% endif %}：{{ date }}",
    "set": "{% set s = staff %}{{ s.name }}",
    "macro": "{% macro sig() %}{{ staff.name }}{% endmacro %}{{ sig()|length }}",
    "filter block": "{% filter upper %}{{ staff.name }}{% endfilter %}",
    "set block": "{% set sig %}{{ staff.name }}{% endset %}{{ sig|length }}",
    "item": "{{ staff['name'] }}·{{ staff.branch }}",
    "concat": "{{ staff.name ~ '，' ~ staff.branch }}",
    "loop over name": "{% for c in staff.name %}{{ c }}{% endfor %}",
}


@pytest.fixture
def context(app, db):
    return base_context(RUN_DATE, market_context(RUN_DATE), placeholder_chart_urls(RUN_DATE))


def per_staff(body, context):
    return [render_body(body, {**context, "staff": row.fields()}) for row in STAFF]


@pytest.mark.parametrize("entry", load_library(LIBRARY), ids=lambda e: e.slug)
def test_library_renders_once_byte_identical_to_per_staff(entry, context):
    assert prints_staff_fields_only(entry.body)
    texts = render_plan_texts(entry.body, entry.product, context, STAFF, ValueChecker())
    assert texts.segments is not None and texts.bodies is None
    assert [texts.text_of(i) for i in range(len(STAFF))] == per_staff(entry.body, context)


@pytest.mark.parametrize("name", sorted(FALLBACKS))
def test_other_uses_of_staff_fall_back_to_per_staff_renders(name, context):
    body = FALLBACKS[name] + "市场有风险，投资须谨慎。"
    assert not prints_staff_fields_only(body)
    texts = render_plan_texts(body, "general", context, STAFF, ValueChecker())
    assert texts.segments is None
    assert texts.bodies == per_staff(body, context)


def test_plain_prints_inside_loops_and_conditions_render_once(context):
    body = ("{% for code in ['SSE', 'HSI'] %}{{ code }} {{ staff.name }}\n{% endfor %}"
            "{% if market.SSE.close > 0 %}{{ staff.branch }}{% endif %}{{- staff.name -}}")
    assert prints_staff_fields_only(body)
    texts = render_plan_texts(body, "general", context, STAFF, ValueChecker())
    assert [texts.text_of(i) for i in range(len(STAFF))] == per_staff(body, context)


def test_a_name_that_would_exceed_the_output_limit_falls_back(app, context, monkeypatch):
    monkeypatch.setitem(app.config, "RENDER_MAX_OUTPUT_CHARS", 150)
    body = "{{ staff.name }}"
    with pytest.raises(PlanSkipped, match="渲染失败：模板渲染超出限制：文字或列表长度超过 150"):
        render_plan_texts(body, "general", context, STAFF, ValueChecker())


def test_the_plan_text_is_checked_once_and_each_name_once_per_run(context, monkeypatch):
    calls = []

    def counting(real):
        def counted(text, product=None, **kwargs):
            calls.append(text)
            return real(text, product, **kwargs)
        return counted

    monkeypatch.setattr(plan_texts, "check_text", counting(plan_texts.check_text))
    monkeypatch.setattr(plan_texts, "check_rendered", counting(plan_texts.check_rendered))
    checker = ValueChecker()
    entries = load_library(LIBRARY)[:3]
    for entry in entries:
        render_plan_texts(entry.body, entry.product, context, STAFF, checker)
    # one check per plan text, one screening of all names and branches for the whole run
    assert len(calls) == len(entries) + 1


def test_a_blocking_name_skips_the_plan_with_its_rule(context):
    staff = [*STAFF, StaffRow(9, "保本保收益", "总行")]
    body = "{{ staff.name }}：今日市场有风险，投资须谨慎。"
    with pytest.raises(PlanSkipped) as skipped:
        render_plan_texts(body, "fund", context, staff, ValueChecker())
    assert skipped.value.rule_ids and "客户经理姓名或机构名称" in skipped.value.reason


def test_tasks_point_at_the_post_text_and_fallback_tasks_keep_their_own(db):
    hq = BranchFactory(level=BranchLevel.hq)
    for _ in range(2):
        UserFactory(role="frontline", branch=hq)
    shared = SopPlanFactory(template=approved_template(
        "{{ date }} {{ staff.name }}·{{ staff.branch }}。市场有风险，投资须谨慎。",
        chart_spec=None), branch=hq, calendar="daily")
    own = SopPlanFactory(template=approved_template(
        "{{ date }} {{ staff.name|length }}。市场有风险，投资须谨慎。", chart_spec=None),
        branch=hq, calendar="daily")
    result = run_day(RUN_DATE, refresh_market=False)
    assert result.tasks_created == 4
    tasks = _db.session.scalars(select(Task).order_by(Task.id)).all()
    for task in tasks:
        name, branch = task.staff.display_name, task.staff.branch.name
        if task.post.sop_plan_id == shared.id:
            assert task.body is None
            assert task.text == f"2025-04-25 {name}·{branch}。市场有风险，投资须谨慎。"
        else:
            assert task.post.sop_plan_id == own.id and task.post_text.segments is None
            assert task.body == task.text == f"2025-04-25 {len(name)}。市场有风险，投资须谨慎。"
