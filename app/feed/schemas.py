"""JSON shapes of the front-office API: request bodies in, task objects out."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from app.core.errors import ValidationFailed
from app.feed.services import TaskItem


def _iso(instant: dt.datetime | None, tz: ZoneInfo) -> str | None:
    return instant.astimezone(tz).isoformat() if instant is not None else None


def task_json(item: TaskItem, tz: ZoneInfo) -> dict:
    """Serialise a task for ``/api/v1``.

    :param item: the task record from ``app.feed.services``.
    :param tz: display timezone (``TIMEZONE``, Asia/Shanghai) for the ISO 8601 instants.
    :returns: ``{"id", "post_id", "run_date", "sop", "channel", "text", "chart_url", "status",
        "due_at", "completed_at", "reach_count", "overdue", "note"}``; instants carry their
        offset; ``text`` includes the note.
    """
    return {
        "id": item.id,
        "post_id": item.post_id,
        "run_date": item.run_date.isoformat(),
        "sop": item.sop,
        "channel": item.channel.value,
        "text": item.text,
        "chart_url": item.chart_url,
        "status": item.status.value,
        "due_at": _iso(item.due_at, tz),
        "completed_at": _iso(item.completed_at, tz),
        "reach_count": item.reach_count,
        "overdue": item.overdue,
        "note": item.note,
    }


def parse_complete_body(payload) -> int | None:
    """Read ``reach_count`` from the optional body of ``POST /tasks/<id>/complete``.

    :param payload: the decoded JSON body, or ``None`` when the body is empty.
    :returns: the reported reach (customers sent to), or ``None`` if not given.
    :raises ValidationFailed: body is not an object, has unknown keys, or ``reach_count``
        is not a non-negative integer.
    """
    if payload is None:
        return None
    if not isinstance(payload, dict):
        raise ValidationFailed("请求体须为 JSON 对象", {"body": "须为 JSON 对象"})
    unknown = sorted(set(payload) - {"reach_count"})
    if unknown:
        raise ValidationFailed("请求体含未知字段", {str(k)[:64]: "未知字段" for k in unknown})
    reach = payload.get("reach_count")
    if reach is not None and (isinstance(reach, bool) or not isinstance(reach, int)):
        raise ValidationFailed("发送人数无效", {"reach_count": "发送人数须为非负整数"})
    return reach


def parse_events_body(payload) -> list:
    """Extract the ``events`` list of ``POST /interactions``.

    :param payload: the decoded JSON body.
    :returns: the list of raw event objects (validated one by one by the service).
    :raises ValidationFailed: body is not ``{"events": [...]}``.
    """
    if not isinstance(payload, dict) or not isinstance(payload.get("events"), list):
        raise ValidationFailed(
            '请求体须为 {"events": [...]}', {"events": "须为事件数组"}
        )
    return payload["events"]


def parse_note_body(payload) -> str | None:
    """Read ``note`` from the body of ``PUT /tasks/<id>/note``.

    :param payload: the decoded JSON body.
    :returns: the raw note (checked by ``app.feed.notes``), or ``None`` to remove it.
    :raises ValidationFailed: body is not ``{"note": string or null}``.
    """
    if not isinstance(payload, dict) or "note" not in payload:
        raise ValidationFailed('请求体须为 {"note": "..."}', {"note": "缺少附言"})
    unknown = sorted(set(payload) - {"note"})
    if unknown:
        raise ValidationFailed("请求体含未知字段", {str(k)[:64]: "未知字段" for k in unknown})
    return payload["note"]
