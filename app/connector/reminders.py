"""Reminders 催办: ``remind_groupmsg_send`` for mass messages not sent by their due time.

WeCom allows 3 reminders per msgid per 24 hours (41094 beyond). A task gets a reminder
when it is ``WECOM_REMIND_AFTER_MINUTES`` past its due time and still unsent, then again
at most every ``REMIND_SPACING_HOURS``, never more than 3 within 24 hours. Each reminder
is a ``wecom_reminders`` row that managers see in 日跟踪.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from sqlalchemy import func, select

from app.broadcasts.models import Post, PostStatus, Task, TaskStatus
from app.connector.models import (
    PushAction,
    PushState,
    WeComPush,
    WeComPushMessage,
    WeComReminder,
)
from app.core.extensions import db
from app.core.locks import lock_rows
from app.wecom import api
from app.wecom.client import WeComClient
from app.wecom.errors import RemindLimitReached, TaskCancelled, WeComError

logger = logging.getLogger(__name__)
REMINDERS_PER_DAY = 3
REMIND_SPACING_HOURS = 2


def remind_overdue(client: WeComClient, remind_after_minutes: int,
                   commit: Callable[[], None]) -> int:
    """Remind every sent, unconfirmed mass message whose task is overdue.

    A task sent as several messages (chunks, ``app.connector.chunks``) gets a reminder per
    message: the staff member sends each in the WeCom client; so do the accepted messages
    of a row given up after a later chunk failed.

    :param remind_after_minutes: minutes past ``tasks.due_at`` before the first reminder.
    :returns: reminders sent (one per ``msgid``).
    """
    now = client.now()
    candidates = db.session.execute(
        select(WeComPush.id, WeComPushMessage.msgid)
        .join(WeComPushMessage, WeComPushMessage.push_id == WeComPush.id)
        .join(Task, WeComPush.task_id == Task.id).join(Post, Task.post_id == Post.id)
        .where(WeComPush.action == PushAction.mass_message,
               # failed: given up after some chunks were accepted, which are still to send
               WeComPush.state.in_([PushState.sent, PushState.failed]),
               WeComPushMessage.msgid.is_not(None),
               Post.status == PostStatus.published, Task.status == TaskStatus.assigned,
               Task.due_at < now - dt.timedelta(minutes=remind_after_minutes))
        .order_by(WeComPush.id, WeComPushMessage.seq)).all()
    sent = 0
    for push_id, msgid in candidates:
        # two push runs may overlap (queued every minute): the row lock makes the second
        # wait for the first's reminder row, so a slot is never spent twice
        lock_rows(db.session, WeComPush, WeComPush.id == push_id)
        if not _may_remind(msgid, now):
            commit()
            continue
        try:
            api.remind_groupmsg_send(client, msgid)
        except (RemindLimitReached, TaskCancelled) as error:
            logger.info("wecom remind skipped push_id=%s errcode=%s", push_id, error.code)
            commit()
            continue
        except WeComError as error:
            logger.warning("wecom remind failed push_id=%s errcode=%s", push_id, error.code)
            commit()
            continue
        db.session.add(WeComReminder(push_id=push_id, msgid=msgid, reminded_at=now))
        commit()
        sent += 1
    return sent


def _may_remind(msgid: str, now: dt.datetime) -> bool:
    count, last = db.session.execute(
        select(func.count(WeComReminder.id), func.max(WeComReminder.reminded_at))
        .where(WeComReminder.msgid == msgid,
               WeComReminder.reminded_at > now - dt.timedelta(hours=24))).one()
    if count >= REMINDERS_PER_DAY:
        return False
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=dt.UTC)
    return last is None or now - last >= dt.timedelta(hours=REMIND_SPACING_HOURS)
