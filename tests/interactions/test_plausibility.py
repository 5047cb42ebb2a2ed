"""Events must be plausible for their task: sent, within the reach, timed, sized (service)."""

import datetime as dt

import pytest
from sqlalchemy import func, select

from app.broadcasts.models import TaskStatus
from app.interactions.models import InteractionEvent, InteractionKind
from app.interactions.rules import NOT_SENT_MESSAGE, REPLIES_PER_REACH
from app.interactions.services import counts_by_task, record_events
from app.metrics.services import scorecard
from app.org.models import Role
from tests.factories import UserFactory
from tests.frontline_fixtures import DAY, SENT_AT

NOW = dt.datetime(2025, 4, 25, 6, 0, tzinfo=dt.UTC)  # 14:00 Shanghai; post planned 08:30
CAPPED_KINDS = ["like", "comment", "inquiry", "block", "delete"]


def count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(InteractionEvent))


def event(event_id, task_id, kind="like", **extra) -> dict:
    return {"event_id": event_id, "task_id": task_id, "kind": kind, **extra}


def test_open_task_takes_no_events(db, make_task, frontline_a):
    task = make_task(frontline_a)
    [result] = record_events(frontline_a.id, [event("o1", task.id)], now=NOW)
    assert (result.status, result.errors) == ("error", {"task_id": NOT_SENT_MESSAGE})
    assert NOT_SENT_MESSAGE == "请先标记任务完成并填写发送人数"
    assert count(db) == 0


@pytest.mark.parametrize("reach", [None, 0])
def test_done_task_without_reach_takes_no_events(db, make_sent_task, frontline_a, reach):
    task = make_sent_task(frontline_a, reach=reach)
    [result] = record_events(frontline_a.id, [event("n1", task.id, "reply")], now=NOW)
    assert result.errors == {"task_id": NOT_SENT_MESSAGE}
    assert count(db) == 0


@pytest.mark.parametrize("kind", CAPPED_KINDS)
def test_customer_actions_cannot_exceed_the_reach(db, make_sent_task, frontline_a, kind):
    task = make_sent_task(frontline_a, reach=35)
    results = record_events(frontline_a.id, [
        event("k1", task.id, kind, quantity=30),
        event("k2", task.id, kind, quantity=6),   # 36 > 35
        event("k3", task.id, kind, quantity=5),   # 35: fits
    ], now=NOW)
    assert [r.status for r in results] == ["created", "error", "created"]
    assert set(results[1].errors) == {"quantity"}
    assert "累计不能超过发送人数 35" in results[1].errors["quantity"]
    [later] = record_events(frontline_a.id, [event("k4", task.id, kind)], now=NOW)
    assert later.status == "error"  # existing rows count too
    assert counts_by_task([task.id]) == {task.id: {InteractionKind(kind): 35}}


def test_limit_message_names_the_kind_and_reach(db, make_sent_task, frontline_a):
    task = make_sent_task(frontline_a, reach=35)
    [result] = record_events(frontline_a.id, [event("big", task.id, quantity=100_000)], now=NOW)
    assert result.errors["quantity"].startswith("点赞累计不能超过发送人数 35")


def test_conversions_are_capped_by_reach(db, make_sent_task, frontline_a):
    task = make_sent_task(frontline_a, reach=2)
    results = record_events(frontline_a.id, [
        event("v1", task.id, "conversion", quantity=2, amount_cny="1000"),
        event("v2", task.id, "conversion", amount_cny="1000"),
    ], now=NOW)
    assert [r.status for r in results] == ["created", "error"]
    assert "转化累计不能超过发送人数 2" in results[1].errors["quantity"]


def test_replies_may_exceed_reach_up_to_a_multiple(db, make_sent_task, frontline_a):
    task = make_sent_task(frontline_a, reach=3)
    cap = REPLIES_PER_REACH * 3
    results = record_events(frontline_a.id, [
        event("r1", task.id, "reply", quantity=10),
        event("r2", task.id, "reply", quantity=cap - 10),
        event("r3", task.id, "reply"),
    ], now=NOW)
    assert [r.status for r in results] == ["created", "created", "error"]
    assert f"发送人数 3 的 {REPLIES_PER_REACH} 倍" in results[2].errors["quantity"]


def test_limits_are_per_task_and_kind(db, make_sent_task, frontline_a):
    one, two = make_sent_task(frontline_a, reach=5), make_sent_task(frontline_a, reach=5)
    results = record_events(frontline_a.id, [
        event("p1", one.id, quantity=5), event("p2", one.id, "comment", quantity=5),
        event("p3", two.id, quantity=5),
    ], now=NOW)
    assert [r.status for r in results] == ["created"] * 3


@pytest.mark.parametrize("occurred_at, ok", [
    ("2020-01-01T10:00:00+08:00", False),  # years before the post
    ("2025-04-25T07:29:00+08:00", False),  # more than 1 h before the 08:30 plan
    ("2025-04-25T07:31:00+08:00", True),   # within the tolerance
    ("2025-04-25T13:59:00+08:00", True),
    ("2025-04-25T14:04:00+08:00", True),   # client clock slightly ahead
    ("2025-04-25T14:06:00+08:00", False),  # after now
])
def test_occurred_at_lies_between_send_and_now(db, make_sent_task, frontline_a, occurred_at,
                                              ok):
    task = make_sent_task(frontline_a)
    [result] = record_events(frontline_a.id, [event("t1", task.id, occurred_at=occurred_at)],
                             now=NOW)
    assert result.status == ("created" if ok else "error")
    if not ok:
        assert set(result.errors) == {"occurred_at"}


def test_early_send_moves_the_earliest_time(db, make_sent_task, frontline_a):
    sent_early = dt.datetime(2025, 4, 24, 23, 0, tzinfo=dt.UTC)  # 07:00 Shanghai
    task = make_sent_task(frontline_a, completed_at=sent_early)
    [result] = record_events(frontline_a.id, [
        event("e1", task.id, occurred_at="2025-04-25T06:30:00+08:00")], now=NOW)
    assert result.status == "created"


def test_default_time_is_the_pinned_business_now(db, make_sent_task, frontline_a, time_machine):
    """Without ``now`` the service uses business_now(): the pinned date, wall-clock time."""
    task = make_sent_task(frontline_a)
    time_machine.move_to(NOW, tick=False)
    [result] = record_events(frontline_a.id, [event("d1", task.id)])
    assert result.status == "created"
    stored = db.session.scalar(select(InteractionEvent).filter_by(event_id="d1"))
    assert stored.occurred_at == NOW


@pytest.mark.parametrize("amount, ok", [
    ("50000000", True), ("50000000.01", False), ("999999999.99", False), ("0", False),
])
def test_conversion_amount_cap(db, make_sent_task, frontline_a, amount, ok):
    task = make_sent_task(frontline_a)
    [result] = record_events(frontline_a.id, [
        event("a1", task.id, "conversion", amount_cny=amount)], now=NOW)
    assert result.status == ("created" if ok else "error")
    if amount == "999999999.99":
        assert result.errors == {"amount_cny": "单笔转化金额不能超过 50,000,000 元"}


def test_conversion_amount_cap_is_configurable(app, db, make_sent_task, frontline_a,
                                               monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONVERSION_AMOUNT_CNY", 1000)
    task = make_sent_task(frontline_a)
    results = record_events(frontline_a.id, [
        event("c1", task.id, "conversion", amount_cny="1000"),
        event("c2", task.id, "conversion", amount_cny="1000.01"),
    ], now=NOW)
    assert [r.status for r in results] == ["created", "error"]
    assert results[1].errors == {"amount_cny": "单笔转化金额不能超过 1,000 元"}


def test_mixed_batch_records_only_the_good_items(db, make_task, make_sent_task, frontline_a):
    sent, open_task = make_sent_task(frontline_a, reach=35), make_task(frontline_a)
    results = record_events(frontline_a.id, [
        event("g1", sent.id, quantity=10),
        event("b1", sent.id, quantity=100_000),
        event("b2", open_task.id),
        event("b3", sent.id, "comment", occurred_at="2020-01-01T00:00:00+08:00"),
        event("b4", sent.id, "conversion", amount_cny="999999999.99"),
        event("g2", sent.id, "conversion", amount_cny="20000"),
    ], now=NOW)
    assert [r.status for r in results] == ["created", "error", "error", "error", "error",
                                           "created"]
    assert set(db.session.scalars(select(InteractionEvent.event_id))) == {"g1", "g2"}


def test_retry_at_the_limit_stays_a_duplicate_or_conflict(db, make_sent_task, frontline_a):
    task = make_sent_task(frontline_a, reach=35)
    full = event("f1", task.id, quantity=35)
    assert record_events(frontline_a.id, [full], now=NOW)[0].status == "created"
    later = NOW + dt.timedelta(hours=1)
    assert record_events(frontline_a.id, [full], now=later)[0].status == "duplicate"
    changed = event("f1", task.id, quantity=36)
    assert record_events(frontline_a.id, [changed], now=later)[0].status == "conflict"
    repeated = record_events(frontline_a.id, [full, full], now=later)
    assert [r.status for r in repeated] == ["duplicate", "duplicate"]
    assert count(db) == 1


def test_within_a_batch_a_rejected_id_can_be_used_again(db, make_sent_task, frontline_a):
    task = make_sent_task(frontline_a, reach=5)
    results = record_events(frontline_a.id, [
        event("w1", task.id, quantity=6), event("w1", task.id, quantity=5),
        event("w1", task.id, quantity=5)], now=NOW)
    assert [r.status for r in results] == ["error", "created", "duplicate"]


def test_one_user_cannot_push_engagement_over_100_percent(db, make_sent_task, frontline_a):
    task = make_sent_task(frontline_a, reach=35)
    attack = record_events(frontline_a.id, [
        event("x1", task.id, quantity=100_000), event("x2", task.id, "comment", quantity=35),
        event("x3", task.id, "inquiry", quantity=35)], now=NOW)
    assert attack[0].status == "error"
    viewer = UserFactory(role=Role.admin, branch=frontline_a.branch)
    card = scorecard(viewer, frontline_a.branch_id, DAY, DAY)
    assert card.middle_total.engagement_rate == pytest.approx(70 / 35)  # comments + inquiries
    # each of like/comment/inquiry is capped at the reach, so the worst case is 3 × 100 %
    record_events(frontline_a.id, [event("x4", task.id, quantity=35)], now=NOW)
    card = scorecard(viewer, frontline_a.branch_id, DAY, DAY)
    assert card.middle_total.engagement_rate == pytest.approx(3.0)


def test_sent_task_fixture_is_done(make_sent_task, frontline_a):
    task = make_sent_task(frontline_a)
    assert (task.status, task.completed_at, task.reach_count) == (TaskStatus.done, SENT_AT, 50)
