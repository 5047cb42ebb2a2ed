"""Staff behaviour from WeCom (``get_user_behavior_data``): front-office process measures.

Per member and Asia/Shanghai day: new contacts, chats, messages, reply rate (a fraction;
WeCom sends a percentage), average reply time (minutes) and negative feedback
(customers who deleted or blocked the member). WeCom keeps 180 days and answers at most
30 days per call; several userids would be summed, so each member is asked alone.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.connector.models import WeComStaffDay
from app.core.extensions import db
from app.core.upserts import upsert_rows
from app.org.models import Role, User
from app.wecom import api
from app.wecom.client import WeComClient
from app.wecom.errors import InvalidRequest, UnknownMember

logger = logging.getLogger(__name__)
CHINA = ZoneInfo("Asia/Shanghai")
MAX_SPAN_DAYS = 30
_UPDATED = ("new_contacts", "chats", "messages", "reply_rate", "avg_reply_minutes",
            "negative_feedback")


def _day_start(day: dt.date) -> int:
    return int(dt.datetime.combine(day, dt.time(), CHINA).timestamp())


def staff_day_row(staff_id: int, item: dict) -> dict:
    """A ``wecom_staff_days`` row from one ``behavior_data`` item."""
    percentage = item.get("reply_percentage")
    minutes = item.get("avg_reply_time")
    return {"staff_id": staff_id,
            "stat_date": dt.datetime.fromtimestamp(int(item["stat_time"]), CHINA).date(),
            "new_contacts": int(item.get("new_contact_cnt") or 0),
            "chats": int(item.get("chat_cnt") or 0),
            "messages": int(item.get("message_cnt") or 0),
            "reply_rate": None if percentage is None else min(1.0, float(percentage) / 100),
            "avg_reply_minutes": None if minutes is None else int(minutes),
            "negative_feedback": int(item.get("negative_feedback_cnt") or 0)}


def pull_behavior(client: WeComClient, start: dt.date, end: dt.date,
                  commit: Callable[[], None]) -> dict:
    """Store behaviour data of every active front-line member with a WeCom userid.

    :param start: first day (Asia/Shanghai); :param end: last day, inclusive; split into
        spans of at most 30 days.
    :returns: ``{"staff": n, "staff_days": rows written, "staff_skipped": n}``.
    """
    staff = db.session.execute(select(User.id, User.wecom_userid).where(
        User.role == Role.frontline, User.is_active_account.is_(True),
        User.wecom_userid.is_not(None)).order_by(User.id)).all()
    written = skipped = 0
    for staff_id, userid in staff:
        first = start
        while first <= end:
            last = min(end, first + dt.timedelta(days=MAX_SPAN_DAYS - 1))
            try:
                items = api.get_user_behavior_data(client, userid, _day_start(first),
                                                   _day_start(last))
            except (UnknownMember, InvalidRequest) as error:
                logger.warning("wecom behaviour skipped staff_id=%s errcode=%s", staff_id,
                               error.code)
                skipped += 1
                break
            rows = [staff_day_row(staff_id, item) for item in items]
            upsert_rows(WeComStaffDay.__table__, rows, keys=("staff_id", "stat_date"),
                        update=_UPDATED)
            written += len(rows)
            first = last + dt.timedelta(days=1)
        commit()
    return {"staff": len(staff), "staff_days": written, "staff_skipped": skipped}
