import datetime as dt
import decimal

import pytest
from sqlalchemy import func, select

from app.core.errors import ValidationFailed
from app.interactions.models import InteractionEvent, InteractionKind
from app.interactions.services import MAX_BATCH_ITEMS, counts_by_task, record_events, summarize

NOW = dt.datetime(2025, 4, 25, 6, 0, tzinfo=dt.UTC)


def count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(InteractionEvent))


def event(event_id, task_id, kind="like", **extra) -> dict:
    return {"event_id": event_id, "task_id": task_id, "kind": kind, **extra}


def test_good_and_bad_items_are_judged_separately(db, make_sent_task, frontline_a):
    task = make_sent_task(frontline_a)
    items = [
        event("e1", task.id, quantity=3, occurred_at="2025-04-25T10:30:00+08:00"),
        event("e2", task.id, kind="shout"),
        event("e3", task.id, "conversion", amount_cny="20000.00"),
        event("", task.id),
        event("e5", task.id, quantity=0),
        "not an object",
    ]
    results = record_events(frontline_a.id, items, now=NOW)
    assert [r.status for r in results] == [
        "created", "error", "created", "error", "error", "error"]
    assert "kind" in results[1].errors and results[1].event_id == "e2"
    assert "event_id" in results[3].errors
    assert "quantity" in results[4].errors
    assert results[5].event_id is None and results[5].errors
    assert summarize(results) == {"created": 2, "duplicates": 0, "conflicts": 0, "errors": 4}
    rows = {r.event_id: r for r in db.session.scalars(select(InteractionEvent))}
    assert set(rows) == {"e1", "e3"}
    assert rows["e1"].quantity == 3 and rows["e1"].reporter_id == frontline_a.id
    assert rows["e1"].occurred_at == dt.datetime(2025, 4, 25, 2, 30, tzinfo=dt.UTC)
    assert rows["e3"].kind is InteractionKind.conversion
    assert rows["e3"].amount_cny == decimal.Decimal("20000.00")
    assert rows["e3"].occurred_at == NOW  # defaulted to the time of receipt


def test_retried_batch_creates_nothing(db, make_sent_task, frontline_a):
    task = make_sent_task(frontline_a)
    items = [event(f"r{i}", task.id, quantity=i + 1) for i in range(5)] + [
        event("r-conv", task.id, "conversion", amount_cny=1500)]
    assert summarize(record_events(frontline_a.id, items, now=NOW))["created"] == 6
    later = NOW + dt.timedelta(minutes=3)
    retry = record_events(frontline_a.id, items, now=later)
    assert [r.status for r in retry] == ["duplicate"] * 6
    assert count(db) == 6
    stored = db.session.scalar(select(InteractionEvent).filter_by(event_id="r0"))
    assert stored.occurred_at == NOW


def test_same_event_id_with_other_content_is_a_conflict(db, make_sent_task, frontline_a):
    task = make_sent_task(frontline_a)
    record_events(frontline_a.id, [event("c1", task.id, quantity=2)], now=NOW)
    [result] = record_events(frontline_a.id, [event("c1", task.id, quantity=5)], now=NOW)
    assert result.status == "conflict"
    [other_kind] = record_events(frontline_a.id, [event("c1", task.id, "comment", quantity=2)],
                                 now=NOW)
    assert other_kind.status == "conflict"
    stored = db.session.scalar(select(InteractionEvent).filter_by(event_id="c1"))
    assert (stored.quantity, stored.kind) == (2, InteractionKind.like)
    assert count(db) == 1


def test_given_time_must_match_on_retry(db, make_sent_task, frontline_a):
    task = make_sent_task(frontline_a)
    first = event("t1", task.id, occurred_at="2025-04-25T10:00:00+08:00")
    record_events(frontline_a.id, [first], now=NOW)
    same_instant = event("t1", task.id, occurred_at="2025-04-25T02:00:00+00:00")
    assert record_events(frontline_a.id, [same_instant], now=NOW)[0].status == "duplicate"
    moved = event("t1", task.id, occurred_at="2025-04-25T11:00:00+08:00")
    assert record_events(frontline_a.id, [moved], now=NOW)[0].status == "conflict"


def test_repeated_event_id_within_one_batch(db, make_sent_task, frontline_a):
    task = make_sent_task(frontline_a)
    results = record_events(frontline_a.id, [
        event("b1", task.id), event("b1", task.id), event("b1", task.id, quantity=9)],
        now=NOW)
    assert [r.status for r in results] == ["created", "duplicate", "conflict"]
    assert count(db) == 1


def test_event_ids_are_per_reporter(db, make_sent_task, frontline_a, frontline_b):
    task_a, task_b = make_sent_task(frontline_a), make_sent_task(frontline_b)
    assert record_events(frontline_a.id, [event("x", task_a.id)], now=NOW)[0].status == "created"
    assert record_events(frontline_b.id, [event("x", task_b.id)], now=NOW)[0].status == "created"
    assert count(db) == 2


def test_other_users_task_looks_like_a_missing_task(db, make_sent_task, frontline_a, frontline_b):
    task_b = make_sent_task(frontline_b)
    results = record_events(frontline_a.id, [event("o1", task_b.id), event("o2", 999_999)],
                            now=NOW)
    assert [r.errors for r in results] == [{"task_id": "任务不存在"}] * 2
    assert count(db) == 0


@pytest.mark.parametrize("amount, ok", [
    ("50000.5", True), (88, True), (12.34, True), ("0.01", True),
    (None, False), ("0", False), (-5, False), ("1.005", False), ("abc", False),
    ("NaN", False), (True, False), ("1000000000.01", False),
])
def test_conversion_amount_rules(db, make_sent_task, frontline_a, amount, ok):
    task = make_sent_task(frontline_a)
    item = event("m1", task.id, "conversion")
    if amount is not None:
        item["amount_cny"] = amount
    [result] = record_events(frontline_a.id, [item], now=NOW)
    assert result.status == ("created" if ok else "error")
    if not ok:
        assert set(result.errors) == {"amount_cny"}
        assert count(db) == 0


def test_amount_is_forbidden_for_other_kinds(db, make_sent_task, frontline_a):
    task = make_sent_task(frontline_a)
    [result] = record_events(frontline_a.id, [event("a1", task.id, "comment", amount_cny="10")],
                             now=NOW)
    assert result.status == "error" and "amount_cny" in result.errors


@pytest.mark.parametrize("occurred_at", [
    "2025-04-25T10:30:00",  # no offset
    "yesterday",
    20250425,
    "2025-04-25T14:10:00+08:00",  # 10 minutes in the future
])
def test_bad_occurred_at(db, make_sent_task, frontline_a, occurred_at):
    task = make_sent_task(frontline_a)
    [result] = record_events(frontline_a.id, [event("d1", task.id, occurred_at=occurred_at)],
                             now=NOW)
    assert result.status == "error" and "occurred_at" in result.errors


def test_unknown_fields_and_bad_types(db, make_sent_task, frontline_a):
    task = make_sent_task(frontline_a)
    results = record_events(frontline_a.id, [
        event("u1", task.id, colour="red"),
        event("u2", str(task.id)),
        event("u3", task.id, quantity=True),
        event("u" * 65, task.id),
    ], now=NOW)
    assert [set(r.errors) for r in results] == [
        {"colour"}, {"task_id"}, {"quantity"}, {"event_id"}]


def test_batch_limit(db, make_sent_task, frontline_a):
    task = make_sent_task(frontline_a, reach=MAX_BATCH_ITEMS)
    items = [event(f"l{i}", task.id) for i in range(MAX_BATCH_ITEMS + 1)]
    with pytest.raises(ValidationFailed):
        record_events(frontline_a.id, items, now=NOW)
    assert count(db) == 0
    results = record_events(frontline_a.id, items[:MAX_BATCH_ITEMS], now=NOW)
    assert summarize(results)["created"] == MAX_BATCH_ITEMS == count(db)


def test_counts_by_task(db, make_sent_task, frontline_a):
    task = make_sent_task(frontline_a)
    record_events(frontline_a.id, [event("k1", task.id, quantity=2), event("k2", task.id),
                                   event("k3", task.id, "comment")], now=NOW)
    assert counts_by_task([task.id]) == {
        task.id: {InteractionKind.like: 3, InteractionKind.comment: 1}}
    assert counts_by_task([]) == {}
