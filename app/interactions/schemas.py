"""Validation of one reported interaction event (JSON item or web form), field by field."""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass

from app.core.http import MAX_ID
from app.interactions.models import InteractionKind
from app.interactions.rules import FUTURE_TOLERANCE

EVENT_ID_MAX_CHARS = 64
MAX_QUANTITY = 100_000
#: What ``interaction_events.amount_cny`` (NUMERIC(18, 2)) can hold; the business cap of one
#: conversion is ``MAX_CONVERSION_AMOUNT_CNY`` in config.py, applied by the service.
MAX_AMOUNT_CNY = decimal.Decimal("9999999999999999.99")
FIELDS = frozenset({"event_id", "task_id", "kind", "quantity", "occurred_at", "amount_cny"})
_CENT = decimal.Decimal("0.01")


@dataclass(frozen=True)
class EventInput:
    """A validated event; ``occurred_at`` is aware UTC.

    ``occurred_at_given`` is false when the client left the time out and it defaulted
    to the time of receipt (a retry then cannot be told apart by its time).
    """

    event_id: str
    task_id: int
    kind: InteractionKind
    quantity: int
    occurred_at: dt.datetime
    occurred_at_given: bool
    amount_cny: decimal.Decimal | None


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _event_id(value, errors: dict) -> str | None:
    if not isinstance(value, str) or not 1 <= len(value) <= EVENT_ID_MAX_CHARS:
        errors["event_id"] = f"event_id 须为 1 至 {EVENT_ID_MAX_CHARS} 个字符的字符串"
        return None
    return value


def _task_id(value, errors: dict) -> int | None:
    if not _is_int(value) or not 1 <= value <= MAX_ID:
        errors["task_id"] = f"task_id 须为 1 至 {MAX_ID} 的整数"
        return None
    return value


def _kind(value, errors: dict) -> InteractionKind | None:
    try:
        return InteractionKind(value)
    except (ValueError, TypeError):
        allowed = "、".join(k.value for k in InteractionKind)
        errors["kind"] = f"类型无效，须为以下之一：{allowed}"
        return None


def _quantity(value, errors: dict) -> int | None:
    if value is None:
        return 1
    if not _is_int(value) or not 1 <= value <= MAX_QUANTITY:
        errors["quantity"] = f"数量须为 1 至 {MAX_QUANTITY} 的整数"
        return None
    return value


def _occurred_at(value, now: dt.datetime, errors: dict) -> dt.datetime | None:
    if value is None:
        return now
    try:
        parsed = dt.datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None:
        errors["occurred_at"] = "时间格式无效，须为 ISO 8601（如 2025-04-25T10:30:00+08:00）"
        return None
    if parsed.tzinfo is None:
        errors["occurred_at"] = "时间须带时区偏移（如 +08:00）"
        return None
    if parsed > now + FUTURE_TOLERANCE:
        errors["occurred_at"] = "发生时间不能晚于当前时间"
        return None
    return parsed.astimezone(dt.UTC)


def _amount(value, kind: InteractionKind | None, errors: dict) -> decimal.Decimal | None:
    if kind is not InteractionKind.conversion:
        if value is not None:
            errors["amount_cny"] = "只有转化可以填写金额"
        return None
    amount = None
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        try:
            amount = decimal.Decimal(str(value).strip())
        except decimal.InvalidOperation:
            amount = None
    if amount is None or not amount.is_finite():
        errors["amount_cny"] = "转化须填写金额（元），如 \"10000.00\""
    elif amount <= 0:
        errors["amount_cny"] = "转化金额须大于 0 元"
    elif amount > MAX_AMOUNT_CNY:
        errors["amount_cny"] = "转化金额过大"
    elif amount != amount.quantize(_CENT):
        errors["amount_cny"] = "金额最多两位小数"
    else:
        return amount.quantize(_CENT)
    return None


def parse_event(item, now: dt.datetime) -> tuple[EventInput | None, dict[str, str]]:
    """Validate one event object.

    :param item: the decoded JSON object (keys as in ``FIELDS``).
    :param now: aware time of receipt; default ``occurred_at`` and the future limit.
    :returns: ``(EventInput, {})`` when valid, else ``(None, {field: Chinese message})``.
    """
    if not isinstance(item, dict):
        return None, {"event": "每条事件须为 JSON 对象"}
    errors: dict[str, str] = {}
    for unknown in sorted(set(item) - FIELDS):
        errors[str(unknown)[:64]] = "未知字段"
    event_id = _event_id(item.get("event_id"), errors)
    task_id = _task_id(item.get("task_id"), errors)
    kind = _kind(item.get("kind"), errors)
    quantity = _quantity(item.get("quantity"), errors)
    occurred_at = _occurred_at(item.get("occurred_at"), now, errors)
    amount = _amount(item.get("amount_cny"), kind, errors)
    if errors:
        return None, errors
    return EventInput(
        event_id=event_id, task_id=task_id, kind=kind, quantity=quantity,
        occurred_at=occurred_at, occurred_at_given=item.get("occurred_at") is not None,
        amount_cny=amount,
    ), {}
