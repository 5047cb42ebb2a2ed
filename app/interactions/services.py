"""Recording customer interaction events 互动事件 reported by front-line staff.

A batch is validated item by item: bad items are reported and skipped, good items are
inserted with ``INSERT ... ON CONFLICT (reporter_id, event_id) DO NOTHING`` so a
retried batch never creates a second row, whatever the timing of the retry.

A new event must also be plausible for its task (``app.interactions.rules``): the task is
done with a reach, quantities stay within the reach, the time lies between the send and now.
The batch's task rows are locked (``app.core.locks.lock_rows``: ``SELECT ... FOR UPDATE``
on PostgreSQL, the database write lock on SQLite) before they are judged, so two concurrent
batches cannot together exceed a limit. An item whose ``event_id`` is already
recorded is not judged again: it is a duplicate or a conflict, exactly as before.
"""

from __future__ import annotations

import datetime as dt
import decimal
import logging
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import func, select

from app.broadcasts.models import Post, Task, TaskStatus
from app.core.clock import business_now
from app.core.errors import ValidationFailed
from app.core.extensions import db
from app.core.locks import lock_rows
from app.core.upserts import insert_on_conflict
from app.interactions.models import InteractionEvent, InteractionKind
from app.interactions.rules import TaskFacts, check_event, required_reach
from app.interactions.schemas import EventInput, parse_event

logger = logging.getLogger(__name__)

MAX_BATCH_ITEMS = 500

CREATED, DUPLICATE, CONFLICT, ERROR = "created", "duplicate", "conflict", "error"


@dataclass(frozen=True)
class ItemResult:
    """Outcome of one item of a batch, in request order.

    ``status`` is ``created`` (new row), ``duplicate`` (same event already recorded),
    ``conflict`` (this ``event_id`` was already recorded with different content; nothing
    changed) or ``error`` (``errors`` maps field names to Chinese messages).
    """

    event_id: str | None
    status: str
    errors: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON shape: ``{"event_id", "status"}`` plus ``"errors"`` when there are any."""
        body = {"event_id": self.event_id, "status": self.status}
        if self.errors:
            body["errors"] = self.errors
        return body


def _task_facts(reporter_id: int, task_ids: set[int]) -> dict[int, TaskFacts]:
    """The reporter's tasks among ``task_ids``, locked for the rest of the transaction."""
    if not task_ids:
        return {}
    mine = (Task.id.in_(task_ids), Task.staff_id == reporter_id)
    lock_rows(db.session, Task, *mine)
    rows = db.session.execute(
        select(Task.id, Task.status, Task.reach_count, Task.completed_at, Post.scheduled_at)
        .join(Post, Task.post_id == Post.id).where(*mine).order_by(Task.id)
    )
    return {row.id: TaskFacts(row.id, row.status is TaskStatus.done, row.reach_count,
                              row.scheduled_at, row.completed_at) for row in rows}


def _same_content(row, event: EventInput) -> bool:
    same = (
        row.task_id == event.task_id and row.kind is event.kind
        and row.quantity == event.quantity and row.amount_cny == event.amount_cny
    )
    return same and (not event.occurred_at_given or row.occurred_at == event.occurred_at)


def _same_input(a: EventInput, b: EventInput) -> bool:
    same = (a.task_id, a.kind, a.quantity, a.amount_cny) == (
        b.task_id, b.kind, b.quantity, b.amount_cny)
    timed = a.occurred_at_given and b.occurred_at_given
    return same and (not timed or a.occurred_at == b.occurred_at)


def _error(item, errors: dict[str, str]) -> ItemResult:
    raw_id = item.get("event_id") if isinstance(item, dict) else None
    return ItemResult(raw_id if isinstance(raw_id, str) else None, ERROR, errors)


def _validate(reporter_id: int, items: list, now: dt.datetime) -> list[EventInput | ItemResult]:
    parsed = [parse_event(item, now) for item in items]
    tasks = _task_facts(reporter_id, {event.task_id for event, _ in parsed if event})
    recorded = set(_existing(reporter_id, [event.event_id for event, _ in parsed if event]))
    logged = counts_by_task(list(tasks))
    max_amount = decimal.Decimal(current_app.config["MAX_CONVERSION_AMOUNT_CNY"])
    accepted: set[str] = set()
    checked: list[EventInput | ItemResult] = []
    for item, (event, errors) in zip(items, parsed, strict=True):
        if event is not None and event.task_id not in tasks:
            errors = {"task_id": "任务不存在"}
        elif event is not None and not ({event.event_id} & (recorded | accepted)):
            totals = logged.setdefault(event.task_id, {})
            errors = check_event(
                tasks[event.task_id], event.kind, event.quantity, event.occurred_at,
                event.amount_cny, totals.get(event.kind, 0), now, max_amount)
            if not errors:
                totals[event.kind] = totals.get(event.kind, 0) + event.quantity
                accepted.add(event.event_id)
        checked.append(_error(item, errors) if errors else event)
    return checked


def _insert(reporter_id: int, events: list[EventInput], now: dt.datetime) -> set[str]:
    """Insert ``events`` (distinct event ids); returns the event ids actually inserted."""
    if not events:
        return set()
    table = InteractionEvent.__table__
    rows = [
        {"reporter_id": reporter_id, "event_id": e.event_id, "task_id": e.task_id,
         "kind": e.kind, "quantity": e.quantity, "amount_cny": e.amount_cny,
         "occurred_at": e.occurred_at, "created_at": now}
        for e in events
    ]
    stmt = (
        insert_on_conflict(table)
        .on_conflict_do_nothing(index_elements=["reporter_id", "event_id"])
        .returning(table.c.event_id)
    )
    return set(db.session.scalars(stmt, rows))


def _existing(reporter_id: int, event_ids: list[str]) -> dict:
    """Stored content of already-recorded events, as rows keyed by event id."""
    if not event_ids:
        return {}
    e = InteractionEvent
    rows = db.session.execute(
        select(e.event_id, e.task_id, e.kind, e.quantity, e.amount_cny, e.occurred_at)
        .where(e.reporter_id == reporter_id, e.event_id.in_(event_ids))
    )
    return {row.event_id: row for row in rows}


def record_events(
    reporter_id: int, items: list, now: dt.datetime | None = None
) -> list[ItemResult]:
    """Validate and record a batch of interaction events reported by one staff member.

    :param reporter_id: id of the reporting front-line user; each event's task must be theirs.
    :param items: decoded JSON objects, keys ``event_id`` (str, 1..64 chars, unique per
        reporter), ``task_id`` (int), ``kind`` (an ``InteractionKind`` value), ``quantity``
        (int >= 1, default 1), ``occurred_at`` (ISO 8601 with offset, default ``now``),
        ``amount_cny`` (decimal string or number in CNY, > 0 and at most
        ``MAX_CONVERSION_AMOUNT_CNY``, required for ``conversion`` and forbidden for every
        other kind). A new event's task must be done with a reach above 0; per task and kind
        the summed quantity stays within ``rules.quantity_limit``; ``occurred_at`` lies
        between ``rules.earliest_occurred_at`` and ``now`` (+5 minutes). Items are judged in
        order, so an item that would exceed a limit fails while earlier ones are recorded.
    :param now: aware time of receipt (default: ``business_now()``, which follows a pinned
        ``BUSINESS_DATE``).
    :returns: one ``ItemResult`` per item, in order. Within a batch a repeated ``event_id``
        is judged against its first occurrence.
    :raises ValidationFailed: more than ``MAX_BATCH_ITEMS`` items (nothing is recorded).
    """
    if len(items) > MAX_BATCH_ITEMS:
        raise ValidationFailed(
            f"单批最多 {MAX_BATCH_ITEMS} 条事件，本批 {len(items)} 条，请分批提交",
            {"events": f"最多 {MAX_BATCH_ITEMS} 条"},
        )
    now = now or business_now()
    checked = _validate(reporter_id, items, now)
    first: dict[str, EventInput] = {}
    for entry in checked:
        if isinstance(entry, EventInput):
            first.setdefault(entry.event_id, entry)
    inserted = _insert(reporter_id, list(first.values()), now)
    existing = _existing(reporter_id, [eid for eid in first if eid not in inserted])
    results = [_outcome(entry, first, inserted, existing) for entry in checked]
    _log_batch(reporter_id, results)
    return results


def _outcome(entry, first, inserted, existing) -> ItemResult:
    if isinstance(entry, ItemResult):
        return entry
    original = first[entry.event_id]
    if original is entry:
        if entry.event_id in inserted:
            return ItemResult(entry.event_id, CREATED)
        row = existing.get(entry.event_id)
        if row is None:  # the conflicting row vanished (concurrent rollback); let the client retry
            return ItemResult(entry.event_id, ERROR, {"event_id": "记录冲突，请重试"})
        return ItemResult(entry.event_id, DUPLICATE if _same_content(row, entry) else CONFLICT)
    return ItemResult(entry.event_id, DUPLICATE if _same_input(original, entry) else CONFLICT)


def _log_batch(reporter_id: int, results: list[ItemResult]) -> None:
    counts = summarize(results)
    logger.info(
        "interaction batch reporter_id=%s items=%s created=%s duplicates=%s conflicts=%s "
        "errors=%s", reporter_id, len(results), counts["created"], counts["duplicates"],
        counts["conflicts"], counts["errors"],
    )


def summarize(results: list[ItemResult]) -> dict[str, int]:
    """Count results by outcome.

    :returns: ``{"created", "duplicates", "conflicts", "errors"}`` → item counts.
    """
    statuses = [r.status for r in results]
    return {
        "created": statuses.count(CREATED), "duplicates": statuses.count(DUPLICATE),
        "conflicts": statuses.count(CONFLICT), "errors": statuses.count(ERROR),
    }


def counts_by_task(task_ids: list[int]) -> dict[int, dict[InteractionKind, int]]:
    """Sum of ``quantity`` per task and kind, for showing what has been logged.

    :param task_ids: tasks to summarise (callers pass only tasks the user may see).
    :returns: ``{task_id: {InteractionKind: total quantity}}``; tasks without events are absent.
    """
    if not task_ids:
        return {}
    rows = db.session.execute(
        select(InteractionEvent.task_id, InteractionEvent.kind, func.sum(InteractionEvent.quantity))
        .where(InteractionEvent.task_id.in_(task_ids))
        .group_by(InteractionEvent.task_id, InteractionEvent.kind)
    )
    counts: dict[int, dict[InteractionKind, int]] = {}
    for task_id, kind, total in rows:
        counts.setdefault(task_id, {})[kind] = int(total)
    return counts


def reach_needed(task_id: int) -> int:
    """Smallest reach 发送人数 that the events already logged on a task require.

    :param task_id: the task (the caller checks ownership and holds its row lock).
    :returns: customers (>= 0), see ``rules.required_reach``.
    """
    return required_reach(counts_by_task([task_id]).get(task_id, {}))
