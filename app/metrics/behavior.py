"""Front-office communication measured by WeCom 企业微信: chats, reply rate, reply time.

From ``wecom_staff_days`` (the connector's pull of ``get_user_behavior_data``), per staff
member of a branch subtree over a date range of statistics days (Asia/Shanghai). Reply
rate and reply time are averaged over the days with chats (WeCom reports neither on a
day without chats); chats, messages and negative feedback are summed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Float, cast, func, select

from app.connector.models import WeComStaffDay
from app.core.extensions import db
from app.org.models import Branch, User
from app.org.services import in_subtree, path_ids


@dataclass(frozen=True)
class BehaviorRow:
    """One staff member's WeCom communication over the period (``reply_rate`` 0..1)."""

    staff_name: str
    branch_name: str
    days: int
    chats: int
    messages: int
    reply_rate: float | None
    avg_reply_minutes: float | None
    negative_feedback: int


def behavior_rows(path: str | None, start: dt.date, end: dt.date) -> list[BehaviorRow]:
    """Per staff member of the subtree ``path`` (``None`` = whole bank), ``start``..``end``.

    :returns: rows ordered by branch (depth-first, ``app.org.services.path_ids``) then
        name; staff without WeCom data are absent.
    """
    days = WeComStaffDay
    query = (
        select(Branch.path, User.display_name, Branch.name, func.count(days.id),
               func.sum(days.chats), func.sum(days.messages),
               func.avg(cast(days.reply_rate, Float)),
               func.avg(cast(days.avg_reply_minutes, Float)), func.sum(days.negative_feedback))
        .join(User, days.staff_id == User.id).join(Branch, User.branch_id == Branch.id)
        .where(days.stat_date.between(start, end))
        .group_by(User.id, User.display_name, Branch.name, Branch.path))
    if path is not None:
        query = query.where(in_subtree(path))
    rows = sorted(db.session.execute(query), key=lambda row: (path_ids(row[0]), row[1]))
    return [BehaviorRow(name, branch, int(n), int(chats or 0), int(messages or 0),
                        None if rate is None else float(rate),
                        None if minutes is None else float(minutes), int(negative or 0))
            for _, name, branch, n, chats, messages, rate, minutes, negative in rows]
