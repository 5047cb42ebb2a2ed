"""Plausibility rules of an interaction event against its task (pure functions, no database).

An event can only describe what happened to a post that was sent: the task must be done
with a reach 发送人数 above 0, each reached customer can like, comment, ask, block, delete
or buy at most once per post, and the event happens between the send and now. Both the
interactions service and the demo seed (in its tests) are judged by these functions.
"""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from app.interactions.models import KIND_LABELS, InteractionKind

#: A staff member may answer a reached customer several times: replies are capped at this
#: many per reached customer instead of one.
REPLIES_PER_REACH = 20
#: An event may be dated this long before the post's planned send time (or its completion,
#: if earlier): a post sent a little ahead of plan, or a client clock running slow.
EARLY_TOLERANCE = dt.timedelta(hours=1)
#: Client clocks may run a little ahead of the server.
FUTURE_TOLERANCE = dt.timedelta(minutes=5)

NOT_SENT_MESSAGE = "请先标记任务完成并填写发送人数"
_DISPLAY_ZONE = ZoneInfo("Asia/Shanghai")  # config TIMEZONE; the rules stay free of app state


@dataclass(frozen=True)
class TaskFacts:
    """What the rules need to know about a task; instants are aware UTC.

    ``scheduled_at`` is the post's planned send time; ``completed_at`` is when the staff
    member marked the task done (``None`` while open).
    """

    id: int
    is_done: bool
    reach_count: int | None
    scheduled_at: dt.datetime
    completed_at: dt.datetime | None


def quantity_limit(kind: InteractionKind, reach_count: int) -> int:
    """Most customers (quantity summed over all events) a task may report for ``kind``.

    :param kind: the event kind.
    :param reach_count: customers the post was sent to.
    :returns: ``reach_count`` for every customer action; ``REPLIES_PER_REACH × reach_count``
        for ``reply`` (a staff action that can repeat).
    """
    if kind is InteractionKind.reply:
        return REPLIES_PER_REACH * reach_count
    return reach_count


def required_reach(totals: dict[InteractionKind, int]) -> int:
    """Smallest reach that keeps already-logged events within ``quantity_limit``.

    :param totals: summed ``quantity`` per kind of one task's events.
    :returns: customers (>= 0).
    """
    needed = 0
    for kind, total in totals.items():
        per_customer = REPLIES_PER_REACH if kind is InteractionKind.reply else 1
        needed = max(needed, -(-total // per_customer))
    return needed


def earliest_occurred_at(task: TaskFacts) -> dt.datetime:
    """Earliest acceptable ``occurred_at``: planned send (or earlier completion) minus tolerance."""
    start = task.scheduled_at
    if task.completed_at is not None and task.completed_at < start:
        start = task.completed_at
    return start - EARLY_TOLERANCE


def _cn_time(instant: dt.datetime) -> str:
    return instant.astimezone(_DISPLAY_ZONE).strftime("%Y-%m-%d %H:%M")


def check_event(
    task: TaskFacts, kind: InteractionKind, quantity: int, occurred_at: dt.datetime,
    amount_cny: decimal.Decimal | None, logged: int, now: dt.datetime,
    max_amount_cny: decimal.Decimal,
) -> dict[str, str]:
    """Judge one well-formed event against its task.

    :param task: the event's task.
    :param kind, quantity, occurred_at, amount_cny: the event (``occurred_at`` aware).
    :param logged: quantity of ``kind`` already recorded on the task (including events
        accepted earlier in the same batch).
    :param now: aware time of receipt (the business clock).
    :param max_amount_cny: largest amount of one conversion, in CNY.
    :returns: ``{field: Chinese message}``; empty when the event is plausible.
    """
    if not task.is_done or not task.reach_count:
        return {"task_id": NOT_SENT_MESSAGE}
    errors: dict[str, str] = {}
    limit = quantity_limit(kind, task.reach_count)
    if logged + quantity > limit:
        basis = f"发送人数 {task.reach_count} 的 {REPLIES_PER_REACH} 倍" if (
            kind is InteractionKind.reply) else f"发送人数 {task.reach_count}"
        errors["quantity"] = (f"{KIND_LABELS[kind]}累计不能超过{basis}"
                              f"（已登记 {logged}，本次 {quantity}）")
    earliest = earliest_occurred_at(task)
    if occurred_at < earliest:
        errors["occurred_at"] = f"发生时间不能早于内容发送时间（最早北京时间 {_cn_time(earliest)}）"
    elif occurred_at > now + FUTURE_TOLERANCE:
        errors["occurred_at"] = "发生时间不能晚于当前时间"
    if amount_cny is not None and amount_cny > max_amount_cny:
        errors["amount_cny"] = f"单笔转化金额不能超过 {max_amount_cny:,.0f} 元"
    return errors
