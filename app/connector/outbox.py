"""The push outbox: one ``wecom_pushes`` row per task and action, and its state changes.

States: ``pending`` → ``sent`` (WeCom accepted: the msgid of each of a 群发 row's messages
in ``wecom_push_messages``, or a Moments row's jobid, stored) → ``confirmed``
(the staff member sent or published it, or the cancel went through) or ``failed``.
Each attempt is its own unit of work, committed before and after the WeCom call: the
claim (``attempted_at``, ``attempts + 1``, ``is_uncertain``) is durable before anything
is sent, so a crash or a timeout leaves an uncertain row that is reconciled against
WeCom before it may be sent again. Claims are conditional UPDATEs, so two push runs
never send the same row.

Retries across days: a row that failed ``MAX_ATTEMPTS`` times in a row for a passing
reason (rate limits, WeCom busy) gets ``next_attempt_at`` = last attempt +
``RETRY_AFTER``; from then on a push run opens it again (:func:`reopen_failed`) while its
run date lies within ``WECOM_PUSH_RETRY_DAYS`` of the day pushed and its post is still
published, up to ``MAX_TOTAL_ATTEMPTS`` attempts in all. Final failures (WeCom refused
the data, no WeCom userid, post withdrawn) have no ``next_attempt_at``. Rows still pending
when their run date leaves the window are given up (:func:`give_up_before`).
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
#: Channel of the plan → the outbox action that pushes it (every ``WECOM_SENT_CHANNELS``).
CHANNEL_ACTIONS = {Channel.mass_message: PushAction.mass_message,
                   Channel.moments_post: PushAction.moments_post}
#: A row fails after this many attempts in a row (then waits ``RETRY_AFTER``).
MAX_ATTEMPTS = 5
#: A row is given up for good after this many attempts in all.
MAX_TOTAL_ATTEMPTS = 20
#: Wait before a row that failed for a passing reason gets another round of attempts.
RETRY_AFTER = dt.timedelta(hours=1)
#: Another run may take over a claim this old (its process died mid-call).
CLAIM_SECONDS = 300


def enqueue_pushes(run_date: dt.date) -> int:
    """Add a pending row for every task of ``run_date``'s published 群发 / 朋友圈 posts.

    A task is pushed once, on the channel its plan had when it was first enqueued: a plan
    whose channel is edited afterwards does not send the same task again on the new one.

    :param run_date: posts' run date (Asia/Shanghai).
    :returns: rows added (0 when the date was enqueued before: the unique key holds).
    """
    pushed = select(WeComPush.id).where(
        WeComPush.task_id == Task.id,
        WeComPush.action.in_(list(CHANNEL_ACTIONS.values()))).exists()
    rows = db.session.execute(
        select(Task.id, SopPlan.channel)
        .join(Post, Task.post_id == Post.id).join(SopPlan, Post.sop_plan_id == SopPlan.id)
        .where(Post.run_date == run_date, Post.status == PostStatus.published,
               SopPlan.channel.in_(list(CHANNEL_ACTIONS)), ~pushed))
    values = [{"task_id": task_id, "action": CHANNEL_ACTIONS[channel].value,
               "state": PushState.pending.value, "attempts": 0, "is_uncertain": False,
               "failed_customers": 0, "created_at": dt.datetime.now(dt.UTC)}
              for task_id, channel in rows]
    return len(upsert_returning_ids(WeComPush, values, ["task_id", "action"]))


def _run_date_tasks(first: dt.date, last: dt.date):
    """Ids of the tasks of published posts with run dates ``first``..``last`` (subquery)."""
    return (select(Task.id).join(Post, Task.post_id == Post.id)
            .where(Post.run_date.between(first, last), Post.status == PostStatus.published)
            .scalar_subquery())


def reopen_failed(first: dt.date, last: dt.date, now: dt.datetime) -> int:
    """Set back to pending the rows due another round (``next_attempt_at`` reached).

    Only rows of published posts with run dates ``first``..``last`` (withdrawn posts are
    skipped); ``attempts`` is kept, so ``MAX_TOTAL_ATTEMPTS`` bounds every row.

    :returns: rows reopened.
    """
    result = db.session.execute(
        update(WeComPush).where(WeComPush.state == PushState.failed,
                                WeComPush.next_attempt_at <= now,
                                WeComPush.action.in_(list(CHANNEL_ACTIONS.values())),
                                WeComPush.task_id.in_(_run_date_tasks(first, last)))
        .values(state=PushState.pending, next_attempt_at=None)
        .execution_options(synchronize_session=False))
    if result.rowcount:
        logger.info("wecom pushes reopened for another round: %s (run dates %s..%s)",
                    result.rowcount, first, last)
    return result.rowcount


def give_up_before(first: dt.date) -> int:
    """Fail for good the rows of run dates before ``first`` still pending or due a retry.

    :returns: rows given up.
    """
    older = (select(Task.id).join(Post, Task.post_id == Post.id)
             .where(Post.run_date < first).scalar_subquery())
    result = db.session.execute(
        update(WeComPush).where(
            WeComPush.action.in_(list(CHANNEL_ACTIONS.values())),
            (WeComPush.state == PushState.pending)
            | ((WeComPush.state == PushState.failed) & WeComPush.next_attempt_at.is_not(None)),
            WeComPush.is_uncertain.is_(False), WeComPush.task_id.in_(older))
        .values(state=PushState.failed, next_attempt_at=None,
                last_error=f"not pushed before {first.isoformat()}: given up")
        .execution_options(synchronize_session=False))
    return result.rowcount


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
    """WeCom accepted the push: store its ids (``jobid``, ``moment_id``), if any.

    A 群发 row's ``msgid``s are stored per message as WeCom accepts each
    (``chunks.accept``); it is marked sent once every chunk is.
    """
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
    if not uncertain and (push.attempts % MAX_ATTEMPTS == 0
                          or push.attempts >= MAX_TOTAL_ATTEMPTS):
        push.state = PushState.failed
        last = push.attempted_at or dt.datetime.now(dt.UTC)
        push.next_attempt_at = (last + RETRY_AFTER if push.attempts < MAX_TOTAL_ATTEMPTS
                                else None)
    logger.warning("wecom push not sent push_id=%s attempt=%s uncertain=%s: %s", push.id,
                   push.attempts, uncertain, error)


def mark_failed(push: WeComPush, error: str) -> None:
    """Give the row up: WeCom refused it for good (bad data, unknown member, config)."""
    push.state, push.is_uncertain, push.last_error = PushState.failed, False, error[:500]
    push.next_attempt_at = None
    logger.warning("wecom push failed push_id=%s task_id=%s: %s", push.id, push.task_id, error)


def pending_ids(action: PushAction, first: dt.date | None = None,
                last: dt.date | None = None, limit: int | None = None) -> list[int]:
    """Ids of pending rows of ``action``, oldest first.

    :param first: only rows of run dates from ``first`` to ``last`` (default: ``first``).
    :param limit: at most this many ids.
    """
    query = select(WeComPush.id).where(WeComPush.action == action,
                                       WeComPush.state == PushState.pending)
    if first is not None:
        query = query.join(Task, WeComPush.task_id == Task.id).join(
            Post, Task.post_id == Post.id).where(Post.run_date.between(first, last or first))
    return list(db.session.scalars(query.order_by(WeComPush.id).limit(limit)))
