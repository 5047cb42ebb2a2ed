"""The push outbox: one ``wecom_pushes`` row per task and action, and its state changes.

States: ``pending`` → ``sent`` (WeCom accepted: msgid / jobid stored) → ``confirmed``
(the staff member sent or published it, or the cancel went through) or ``failed``.
Each attempt is its own unit of work, committed before and after the WeCom call: the
claim (``attempted_at``, ``attempts + 1``, ``is_uncertain``) is durable before anything
is sent, so a crash or a timeout leaves an uncertain row that is reconciled against
WeCom before it may be sent again. Claims are conditional UPDATEs, so two push runs
never send the same row.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select, update

from app.broadcasts.models import Post, PostStatus, SopPlan, Task
from app.connector.models import PushAction, PushState, WeComPush
from app.content.models import Channel
from app.core.extensions import db
from app.core.upserts import upsert_returning_ids

logger = logging.getLogger(__name__)
#: Channel of the plan → the outbox action that pushes it.
CHANNEL_ACTIONS = {Channel.mass_message: PushAction.mass_message,
                   Channel.moments_post: PushAction.moments_post}
#: A row is given up (``failed``) after this many attempts.
MAX_ATTEMPTS = 5
#: Another run may take over a claim this old (its process died mid-call).
CLAIM_SECONDS = 300


def enqueue_pushes(run_date: dt.date) -> int:
    """Add a pending row for every task of ``run_date``'s published 群发 / 朋友圈 posts.

    :param run_date: posts' run date (Asia/Shanghai).
    :returns: rows added (0 when the date was enqueued before: the unique key holds).
    """
    rows = db.session.execute(
        select(Task.id, SopPlan.channel)
        .join(Post, Task.post_id == Post.id).join(SopPlan, Post.sop_plan_id == SopPlan.id)
        .where(Post.run_date == run_date, Post.status == PostStatus.published,
               SopPlan.channel.in_(list(CHANNEL_ACTIONS))))
    values = [{"task_id": task_id, "action": CHANNEL_ACTIONS[channel].value,
               "state": PushState.pending.value, "attempts": 0, "is_uncertain": False,
               "failed_customers": 0, "created_at": dt.datetime.now(dt.UTC)}
              for task_id, channel in rows]
    return len(upsert_returning_ids(WeComPush, values, ["task_id", "action"]))


def claim(push_ids: list[int], now: dt.datetime) -> list[int]:
    """Claim pending rows for one attempt (conditional UPDATE); returns the ids won.

    A claimed row gets ``attempted_at = now``, one more attempt and ``is_uncertain``; the
    caller commits before calling WeCom.
    """
    stale = now - dt.timedelta(seconds=CLAIM_SECONDS)
    won = []
    for push_id in push_ids:
        result = db.session.execute(
            update(WeComPush).where(
                WeComPush.id == push_id, WeComPush.state == PushState.pending,
                (WeComPush.attempted_at.is_(None)) | (WeComPush.attempted_at < stale)
                | (WeComPush.is_uncertain.is_(False)))
            .values(attempted_at=now, attempts=WeComPush.attempts + 1, is_uncertain=True)
            .execution_options(synchronize_session=False))
        if result.rowcount:
            won.append(push_id)
    db.session.expire_all()
    return won


def mark_sent(push: WeComPush, now: dt.datetime, **wecom_ids) -> None:
    """WeCom accepted the push: store its ids (``msgid``, ``jobid``, ``moment_id``)."""
    for name, value in wecom_ids.items():
        setattr(push, name, value)
    push.state, push.is_uncertain, push.sent_at, push.last_error = (
        PushState.sent, False, now, None)
    logger.info("wecom push sent push_id=%s task_id=%s action=%s", push.id, push.task_id,
                push.action.value)


def mark_retry(push: WeComPush, error: str, *, uncertain: bool) -> None:
    """The attempt did not go through: keep the row pending, or fail it after the last try.

    :param uncertain: WeCom may have accepted it (no answer): reconcile before resending.
    """
    push.last_error, push.is_uncertain = error[:500], uncertain
    if push.attempts >= MAX_ATTEMPTS and not uncertain:
        push.state = PushState.failed
    logger.warning("wecom push not sent push_id=%s attempt=%s uncertain=%s: %s", push.id,
                   push.attempts, uncertain, error)


def mark_failed(push: WeComPush, error: str) -> None:
    """Give the row up: WeCom refused it for good (bad data, unknown member, config)."""
    push.state, push.is_uncertain, push.last_error = PushState.failed, False, error[:500]
    logger.warning("wecom push failed push_id=%s task_id=%s: %s", push.id, push.task_id, error)


def pending_ids(action: PushAction, run_date: dt.date | None = None) -> list[int]:
    """Ids of pending rows of ``action`` (of one run date when given), oldest first."""
    query = select(WeComPush.id).where(WeComPush.action == action,
                                       WeComPush.state == PushState.pending)
    if run_date is not None:
        query = query.join(Task, WeComPush.task_id == Task.id).join(
            Post, Task.post_id == Post.id).where(Post.run_date == run_date)
    return list(db.session.scalars(query.order_by(WeComPush.id)))
