"""Issue 9: frequency caps on promotional messages per customer segment and week."""

import datetime as dt

import pytest

from app.broadcasts.caps import weekly_load
from app.broadcasts.models import PlanRun, RunStatus
from app.broadcasts.plan_rules import PlanInput
from app.broadcasts.services import create_plan, edit_plan, set_plan_active
from app.content.models import Channel
from app.core.errors import ValidationFailed
from app.core.extensions import db as _db
from app.org.models import BranchLevel
from tests.broadcasts.test_run_day import BRIEF, approved_template
from tests.factories import BranchFactory, UserFactory, segment

MONDAY = dt.date(2025, 4, 21)


@pytest.fixture
def world(app, db, monkeypatch):
    """Caps 3 a week (私行 2), business date Monday 2025-04-21; HQ with branches A and B."""
    monkeypatch.setitem(app.config, "BUSINESS_DATE", MONDAY.isoformat())
    monkeypatch.setitem(app.config, "FREQUENCY_CAP_PER_WEEK", 3)
    monkeypatch.setitem(app.config, "FREQUENCY_CAP_PER_WEEK_BY_SEGMENT", {"private": 2})
    monkeypatch.setitem(app.config, "FREQUENCY_CAP_WEEKS", 2)
    hq = BranchFactory(level=BranchLevel.hq)
    a = BranchFactory(parent=hq, level=BranchLevel.branch)
    b = BranchFactory(parent=hq, level=BranchLevel.branch)
    editor = UserFactory(role="editor", branch=hq)
    promo, commentary = approved_template(BRIEF, product="fund"), approved_template(BRIEF)
    return type("World", (), dict(hq=hq, a=a, b=b, editor=editor, promo=promo,
                                  commentary=commentary))


def _plan(world, template, branches, schedule, name, **extra):
    return create_plan(world.editor, PlanInput(name, template.id, [b.id for b in branches],
                                               dt.time(9, 0), schedule=schedule, **extra))


def _load(segment_code):
    return {w.week: (w.count, w.cap) for w in weekly_load() if w.segment_code == segment_code}


def test_the_load_counts_promotional_posts_per_segment_and_week(world):
    _plan(world, world.promo, [world.hq], "weekly:MON,WED@09:00", "周一三推介")
    _plan(world, world.commentary, [world.hq], "weekly:TUE,THU,FRI,SAT@09:00", "点评")
    assert _load("vip") == {MONDAY: (2, 3), MONDAY + dt.timedelta(weeks=1): (2, 3)}
    assert _load("private")[MONDAY] == (2, 2)


def test_a_plan_over_the_cap_is_refused_with_segment_week_count_and_cap(world):
    _plan(world, world.promo, [world.hq], "weekly:MON,WED@09:00", "周一三推介")
    with pytest.raises(ValidationFailed) as error:
        _plan(world, world.promo, [world.b], "weekly:FRI@09:00", "乙周五推介")
    assert error.value.errors["frequency"] == (
        "超过频次上限：客群「私行」2025-04-21 当周每位客户将收到 3 条营销内容，上限 2 条；"
        "客群「私行」2025-04-28 当周每位客户将收到 3 条营销内容，上限 2 条")


def test_a_mass_message_to_other_segments_fits_and_commentary_does_not_count(world):
    _plan(world, world.promo, [world.hq], "weekly:MON,WED@09:00", "周一三推介")
    _plan(world, world.promo, [world.a], "weekly:FRI@09:00", "甲周五贵宾",
          channel=Channel.mass_message, segment_ids=[segment("vip").id])
    _plan(world, world.commentary, [world.a], "weekly:SAT,SUN@09:00", "甲周末点评")
    assert _load("vip")[MONDAY] == (3, 3) and _load("private")[MONDAY] == (2, 2)
    with pytest.raises(ValidationFailed) as error:
        _plan(world, world.promo, [world.a], "weekly:SAT@10:00", "甲周六")
    assert "客群「贵宾」2025-04-21 当周每位客户将收到 4 条营销内容，上限 3 条" \
        in error.value.errors["frequency"]


def test_configured_kinds_count_market_commentary_too(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "FREQUENCY_CAP_PROMOTIONAL_KINDS",
                        ("product_promotion", "market_commentary"))
    _plan(world, world.commentary, [world.hq], "weekly:MON,WED@09:00", "点评")
    assert _load("private")[MONDAY] == (2, 2)


def test_an_edit_replaces_the_plans_own_count_and_end_dates_and_runs_limit_it(world):
    plan = _plan(world, world.promo, [world.hq], "weekly:MON,WED@09:00", "周一三推介")
    edit_plan(world.editor, plan.id, PlanInput("改名", world.promo.id, [world.hq.id],
                                               dt.time(9, 0), schedule="weekly:MON,WED@09:00"))
    assert _load("private")[MONDAY] == (2, 2)
    _plan(world, world.promo, [world.b], "weekly:FRI@09:00", "下周前结束",
          end_date=MONDAY + dt.timedelta(days=3))  # ends Thursday: no Friday this week
    _plan(world, world.promo, [world.a], "weekly:FRI,SAT@09:00", "只一次", max_runs=1,
          start_date=MONDAY + dt.timedelta(days=6), channel=Channel.mass_message,
          segment_ids=[segment("vip").id])  # starts Sunday: next Friday only
    assert _load("vip") == {MONDAY: (2, 3), MONDAY + dt.timedelta(weeks=1): (3, 3)}


def test_runs_left_limit_only_the_coming_dates_of_the_week(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "FREQUENCY_CAP_PER_WEEK", 9)
    monkeypatch.setitem(app.config, "FREQUENCY_CAP_PER_WEEK_BY_SEGMENT", {})
    plan = _plan(world, world.promo, [world.b], "weekly:MON,TUE,WED,THU,FRI@09:00", "五次",
                 max_runs=5)
    for n in range(3):  # Monday to Wednesday ran
        at = dt.datetime.combine(MONDAY + dt.timedelta(days=n), dt.time(1, 0), tzinfo=dt.UTC)
        _db.session.add(PlanRun(sop_plan_id=plan.id, scheduled_at=at, run_date=at.date(),
                                due_at=at, status=RunStatus.published, attempts=1))
    monkeypatch.setitem(app.config, "BUSINESS_DATE", (MONDAY + dt.timedelta(days=3)).isoformat())
    _db.session.flush()  # Thursday: 2 runs left, this week's 5 all count
    assert _load("vip") == {MONDAY: (5, 9), MONDAY + dt.timedelta(weeks=1): (0, 9)}


def test_resuming_a_paused_plan_is_checked_against_the_cap(world):
    first = _plan(world, world.promo, [world.hq], "weekly:MON,WED@09:00", "周一三推介")
    set_plan_active(world.editor, first.id, False)
    _plan(world, world.promo, [world.hq], "weekly:FRI@09:00", "周五推介")
    with pytest.raises(ValidationFailed) as error:
        set_plan_active(world.editor, first.id, True)
    assert "私行" in error.value.errors["frequency"]


def test_the_plan_form_shows_the_load(world, client, login_as):
    _plan(world, world.promo, [world.hq], "weekly:MON,WED@09:00", "周一三推介")
    _db.session.commit()
    login_as(world.editor)
    page = client.get("/plans").get_data(as_text=True)
    assert "营销内容频次" in page and "2025-04-21 当周" in page and "2 / 2" in page


def test_a_refused_form_shows_the_load_with_the_submitted_plan(world, client, login_as):
    _plan(world, world.promo, [world.hq], "weekly:MON,WED@09:00", "周一三推介")
    _db.session.commit()
    login_as(world.editor)
    page = client.post("/plans", data={
        "name": "乙周五推介", "template_id": world.promo.id, "branch_ids": world.b.id,
        "send_time": "09:00", "calendar": "XSHG", "schedule": "weekly:FRI@09:00",
    }).get_data(as_text=True)
    assert "超过频次上限：客群「私行」2025-04-21 当周每位客户将收到 3 条营销内容" in page
    assert "含本次提交的计划" in page and "3 / 2" in page
