"""The daily run under the render budget: an over-budget plan is skipped, the others publish."""

import datetime as dt

import pytest
from sqlalchemy import event, func, select

from app.broadcasts import plan_texts
from app.broadcasts import run_day as run_day_module
from app.broadcasts.models import Post, Task
from app.broadcasts.run_day import run_day
from app.core.extensions import db as _db
from app.org.models import BranchLevel
from tests.broadcasts.test_run_day import BRIEF, approved_template
from tests.factories import BranchFactory, SopPlanFactory, UserFactory

#: A hang must fail the test, never CI: every test here has a hard timeout.
pytestmark = pytest.mark.timeout(30)

RUN_DATE = dt.date(2025, 4, 25)
BOMBS = {
    "loops": ('{% set s = "x" * 2000 %}{% for a in s %}{% for b in s %}{% for c in s %}'
              "{% endfor %}{% endfor %}{% endfor %}", "循环次数超过 10000 次"),
    "tower": ("{{ (9**64**64**64**64) > 1 }}", "整数超过 1024 位（乘方或乘法过大）"),
    "output": ('{% set s = "x" * 1000 %}{% for a in s %}{% for b in s %}{{ "y" * 1000 }}'
               "{% endfor %}{% endfor %}", "输出超过 20000 字"),
    "date": ('{% if date == "' + RUN_DATE.isoformat() + '" %}{% macro f(n) %}{% if n %}'
             "{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(40) }}{% endif %}",
             "运行时间超过 0.3 秒"),
}


@pytest.fixture
def plans(db):
    hq = BranchFactory(level=BranchLevel.hq)
    for _ in range(3):
        UserFactory(role="frontline", branch=BranchFactory(parent=hq))
    good = SopPlanFactory(name="早报", template=approved_template(BRIEF), branch=hq,
                          calendar="weekdays")
    return hq, good


@pytest.mark.timeout(30)
@pytest.mark.parametrize("attack", sorted(BOMBS))
def test_over_budget_plan_is_skipped_with_the_reason_and_the_others_publish(plans, attack,
                                                                           app, monkeypatch):
    monkeypatch.setitem(app.config, "RENDER_CPU_SECONDS", 0.3)
    hq, good = plans
    body, reason = BOMBS[attack]
    bomb = SopPlanFactory(name="炸弹", template=approved_template(BRIEF + body), branch=hq,
                          calendar="weekdays")
    later = SopPlanFactory(name="晚到", template=approved_template(BRIEF), branch=hq,
                           calendar="weekdays")

    result = run_day(RUN_DATE)

    assert result.posts_created == 2 and result.tasks_created == 6
    [skipped] = result.posts_skipped
    assert skipped.sop_plan_id == bomb.id
    assert skipped.reason == f"渲染失败：模板渲染超出限制：{reason}"
    published = set(_db.session.scalars(select(Post.sop_plan_id)))
    assert published == {good.id, later.id}
    assert _db.session.scalar(select(func.count(Task.id))) == 6
    # the worker survived: the same run again renders the good plans (nothing new to insert)
    again = run_day(RUN_DATE)
    assert (again.posts_created, again.tasks_created) == (0, 0)
    assert [s.sop_plan_id for s in again.posts_skipped] == [bomb.id]


@pytest.mark.timeout(30)
def test_a_plan_whose_worker_the_kernel_stops_is_skipped_and_the_others_publish(plans, app,
                                                                              monkeypatch):
    monkeypatch.setitem(app.config, "RENDER_CPU_SECONDS", 0.5)
    monkeypatch.setitem(app.config, "RENDER_MAX_INT_BITS", 10**12)  # the tower runs in C
    hq, good = plans
    bomb = SopPlanFactory(template=approved_template(BRIEF + BOMBS["tower"][0]), branch=hq,
                          calendar="weekdays")
    result = run_day(RUN_DATE)
    assert [(s.sop_plan_id, s.reason) for s in result.posts_skipped] == [
        (bomb.id, "渲染失败：模板渲染超出限制：运行时间超过 0.5 秒")]
    assert result.posts_created == 1 and result.tasks_created == 3


@pytest.mark.timeout(30)
def test_every_plan_is_rendered_before_the_first_post_or_task_is_inserted(plans, monkeypatch):
    hq, _ = plans
    SopPlanFactory(template=approved_template(BRIEF), branch=hq, calendar="weekdays")
    log = []
    real = plan_texts.render_isolated_many

    def recorded(*args, **kwargs):
        log.append("RENDER")
        return real(*args, **kwargs)

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("INSERT INTO POSTS", "INSERT INTO TASKS")):
            log.append("INSERT")

    monkeypatch.setattr(plan_texts, "render_isolated_many", recorded)
    event.listen(_db.engine, "before_cursor_execute", on_execute)
    try:
        result = run_day(RUN_DATE)
    finally:
        event.remove(_db.engine, "before_cursor_execute", on_execute)
    assert result.posts_created == 2
    assert log.count("RENDER") == 2 and log.index("INSERT") > max(
        i for i, entry in enumerate(log) if entry == "RENDER")


def test_plan_run_dates_follow_the_active_plans_calendars(plans):
    _, good = plans
    saturday = dt.date(2025, 4, 26)
    assert run_day_module.plan_run_dates(good.template_id, saturday, 3) == [
        dt.date(2025, 4, 28), dt.date(2025, 4, 29), dt.date(2025, 4, 30)]
    SopPlanFactory(template=good.template, calendar="daily")
    assert run_day_module.plan_run_dates(good.template_id, saturday, 2) == [
        saturday, dt.date(2025, 4, 27)]
    good.is_active = False
    _db.session.flush()
    SopPlanFactory(template=approved_template(BRIEF), calendar="weekdays")
    assert run_day_module.plan_run_dates(good.template_id, saturday, 2) == [
        saturday, dt.date(2025, 4, 27)]
