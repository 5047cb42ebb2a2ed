"""Withdraw a published post 撤回, and what 日跟踪 shows of withdrawals and reminders 催办.

Withdrawing sets the post ``cancelled`` (its tasks leave 今日任务 and drop out of the
scorecard) and records the reason, and an audit entry (``post_withdrawn``: the template
version and the hash of its approved body). Pushes not yet sent are given up; mass messages
already in WeCom (any chunk of one) get a ``cancel`` outbox row, sent by the next push run
(:func:`send_cancels`: ``cancel_groupmsg_send`` per message; members who have not sent it
yet no longer can; WeCom cannot recall what was delivered). Moments tasks have no cancel
API.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select, update

from app.audit.chain import record
from app.auth.permissions import Action, require, scope
from app.broadcasts.models import Post, PostStatus, Task
from app.connector import outbox
from app.connector.models import (
    PostWithdrawal,
    PushAction,
    PushState,
    WeComPush,
    WeComPushMessage,
    WeComReminder,
)
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.extensions import db
from app.core.upserts import upsert_returning_ids
from app.org.models import User
from app.wecom import api
from app.wecom.client import WeComClient
from app.wecom.errors import TaskCancelled, WeComError

logger = logging.getLogger(__name__)


def withdraw_post(actor: User, post_id: int, reason: str, now: dt.datetime) -> Post:
    """Withdraw a published post with a reason.

    :param reason: why (required, ≤ 500 characters), shown in 日跟踪.
    :param now: aware instant of the withdrawal.
    :returns: the post, now ``cancelled``.
    :raises PermissionDenied: unless the policy allows ``withdraw_posts`` (editors, reviewers).
    :raises NotFound: unknown post. :raises Conflict: already withdrawn.
    :raises ValidationFailed: empty or over-long reason.
    """
    require(actor, Action.withdraw_posts)
    reason = (reason or "").strip()
    if not reason or len(reason) > 500:
        raise ValidationFailed("撤回原因无效", {"reason": "请填写撤回原因（最多 500 字）"})
    if db.session.get(Post, post_id) is None:
        raise NotFound("内容不存在")
    changed = db.session.execute(
        update(Post).where(Post.id == post_id, Post.status == PostStatus.published)
        .values(status=PostStatus.cancelled).execution_options(synchronize_session=False))
    if not changed.rowcount:
        raise Conflict("该内容已撤回")
    db.session.add(PostWithdrawal(post_id=post_id, reason=reason, withdrawn_by_id=actor.id,
                                  withdrawn_at=now))
    _stop_pushes(post_id)
    db.session.flush()
    db.session.expire_all()
    post = db.session.get(Post, post_id)
    version = post.template_version
    record(actor.id, "post_withdrawn", "post", post.id, version=version.number,
           content_sha256=version.body_sha256,
           before={"status": PostStatus.published.value},
           after={"status": PostStatus.cancelled.value, "reason": reason,
                  "run_date": post.run_date.isoformat(), "template": version.template_id})
    logger.info("post withdrawn post_id=%s by user_id=%s", post_id, actor.id)
    return post


def _stop_pushes(post_id: int) -> None:
    task_ids = select(Task.id).where(Task.post_id == post_id).scalar_subquery()
    db.session.execute(
        update(WeComPush).where(WeComPush.task_id.in_(task_ids),
                                WeComPush.state == PushState.pending,
                                WeComPush.is_uncertain.is_(False))
        .values(state=PushState.failed, last_error="post withdrawn before it was pushed")
        .execution_options(synchronize_session=False))
    accepted = select(WeComPushMessage.id).where(WeComPushMessage.push_id == WeComPush.id,
                                                 WeComPushMessage.msgid.is_not(None)).exists()
    in_wecom = db.session.scalars(select(WeComPush.task_id).where(
        WeComPush.task_id.in_(task_ids), WeComPush.action == PushAction.mass_message,
        accepted | (WeComPush.is_uncertain.is_(True))))
    upsert_returning_ids(WeComPush, [{
        "task_id": task_id, "action": PushAction.cancel.value, "state": PushState.pending.value,
        "attempts": 0, "is_uncertain": False, "failed_customers": 0,
        "created_at": dt.datetime.now(dt.UTC)} for task_id in in_wecom], ["task_id", "action"])


def withdrawal_of(post_id: int) -> PostWithdrawal | None:
    """The withdrawal record of a post, or ``None`` if it was not withdrawn."""
    return db.session.scalar(select(PostWithdrawal).where(PostWithdrawal.post_id == post_id))


@dataclass(frozen=True)
class ReminderLine:
    """A reminder 催办 as managers see it: who (display name) and when (aware UTC)."""

    staff_name: str
    reminded_at: dt.datetime


def reminders_of(viewer: User, post_id: int) -> list[ReminderLine]:
    """Reminders sent for a post's tasks, limited to the viewer's data scope, newest first.

    One line per task and time: a mass message sent in chunks is reminded once per
    message (``wecom_reminders`` row per ``msgid``), shown as one reminder.

    :raises PermissionDenied: unless the viewer may read tracking.
    """
    require(viewer, Action.read_tracking)
    rows = db.session.execute(
        select(WeComReminder.push_id, User.display_name, WeComReminder.reminded_at).distinct()
        .join(WeComPush, WeComReminder.push_id == WeComPush.id)
        .join(Task, WeComPush.task_id == Task.id).join(User, Task.staff_id == User.id)
        .where(Task.post_id == post_id, scope(viewer).staff_clause(Task.staff_id))
        .order_by(WeComReminder.reminded_at.desc()))
    return [ReminderLine(name, at) for _push_id, name, at in rows]


def send_cancels(client: WeComClient, commit: Callable[[], None]) -> int:
    """Send ``cancel_groupmsg_send`` for withdrawn posts' mass messages (pending cancel rows).

    Every message (chunk) WeCom accepted for the task is cancelled. A cancel waits while
    its mass message's push is unresolved (a call without an answer yet); one with nothing
    in WeCom, or already cancelled there (41093), is confirmed as is. A cancel that fails
    is retried whole (cancelling a message twice is harmless).

    :returns: cancels confirmed in this call.
    """
    done = 0
    for cancel in db.session.scalars(select(WeComPush).where(
            WeComPush.action == PushAction.cancel, WeComPush.state == PushState.pending)).all():
        original = db.session.scalar(select(WeComPush).where(
            WeComPush.task_id == cancel.task_id, WeComPush.action == PushAction.mass_message))
        if original is not None and original.is_uncertain:
            continue  # resolved by the mass message's own reconcile first
        try:
            for msgid in original.msgids if original is not None else []:
                _cancel_message(client, msgid)
        except WeComError as error:
            cancel.attempts += 1
            outbox.mark_retry(cancel, f"errcode {error.code}", uncertain=False)
            commit()
            continue
        cancel.attempts += 1
        cancel.state, cancel.sent_at = PushState.confirmed, client.now()
        done += 1
        commit()
    return done


def _cancel_message(client: WeComClient, msgid: str) -> None:
    try:
        api.cancel_groupmsg_send(client, msgid)
    except TaskCancelled:
        pass
