"""Push published posts to WeCom: 群发 tasks (add_msg_template) and 朋友圈 tasks (add_moment_task).

``push(client, run_date)`` enqueues the date's tasks, then sends each pending outbox row
in its own unit of work (see ``app.connector.outbox``). A row whose last call got no
answer is first looked up in WeCom (``reconcile``): if WeCom had accepted it, its ids are
adopted and nothing new is created, so a retried push never makes a second WeCom task.

A 群发 row whose customer filter lists more than ``api.EXTERNAL_USERIDS_MAX`` customers
is sent as several mass messages of at most that many (``app.connector.chunks``), each
committed as soon as WeCom accepts it: a retry after a later chunk failed sends only the
customers no accepted message holds.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable

from sqlalchemy import select

from app.broadcasts.models import PostStatus
from app.connector import chunks, outbox, reconcile, segments, withdraw
from app.connector.models import PushAction, PushState, WeComPush
from app.core.extensions import db
from app.market.charts import chart_image
from app.wecom import api
from app.wecom.client import WeComClient
from app.wecom.errors import (
    NotReadyYet,
    RateLimited,
    TokenRejected,
    WeComError,
    WeComTransportError,
)
from app.wecom.media import with_media

logger = logging.getLogger(__name__)
#: Errors after which the same row may be tried again later.
RETRYABLE = (RateLimited, NotReadyYet, TokenRejected)
#: Polls of ``get_moment_task_result`` right after creating a Moments task.
MOMENT_POLLS = 5
MOMENT_POLL_SECONDS = 2.0
#: Rows of earlier run dates sent per push run at most (per action), so retries never
#: crowd out today's pushes or WeCom's per-corp limits (10 Moments tasks a minute).
EARLIER_PER_RUN = 50


def push(client: WeComClient, run_date: dt.date, commit: Callable[[], None],
         retry_days: int = 0) -> dict:
    """Enqueue and send the pushes of ``run_date`` and retry earlier days'; poll Moments jobs.

    ``run_date``'s posts are enqueued and their rows go first; then, for the ``retry_days``
    run dates before ``run_date``, rows due another round are reopened
    (``outbox.reopen_failed``; withdrawn posts are skipped) and up to ``EARLIER_PER_RUN`` of
    their pending rows are sent. Only rows that exist are retried: a post of a day on which
    no push ran at all is not sent days late (its market figures would be stale). Rows of
    older run dates still pending are given up.

    :param commit: ends a unit of work (``db.session.commit``); called around each call.
    :param retry_days: how many run dates before ``run_date`` are retried
        (``WECOM_PUSH_RETRY_DAYS``; 0: that date only).
    :returns: ``{"date", "enqueued", "reopened", "given_up", "sent", "adopted", "failed",
        "pending", "moments_done", "cancelled", "unreachable"}``.
    """
    first = run_date - dt.timedelta(days=retry_days)
    counts: Counter = Counter(enqueued=outbox.enqueue_pushes(run_date))
    counts["reopened"] = outbox.reopen_failed(first, run_date, client.now())
    counts["given_up"] = outbox.give_up_before(first)
    commit()
    try:
        for first_day, last_day, limit in _windows(first, run_date):
            for push_id in outbox.pending_ids(PushAction.mass_message, first_day, last_day,
                                              limit):
                counts[_send_one(client, push_id, _send_mass_message, commit)] += 1
            moments = outbox.pending_ids(PushAction.moments_post, first_day, last_day, limit)
            for group in _moment_groups(moments):
                counts[_send_one(client, group, _send_moment, commit)] += 1
        counts["moments_done"] = poll_moment_jobs(client, commit)
        counts["cancelled"] = withdraw.send_cancels(client, commit)
    except WeComUnreachable as error:
        logger.warning("wecom push stopped: %s", error)
        counts["unreachable"] = 1
    return {"date": run_date.isoformat(), **{k: counts.get(k, 0) for k in (
        "enqueued", "reopened", "given_up", "sent", "adopted", "failed", "pending",
        "moments_done", "cancelled", "unreachable")}}


def _windows(first: dt.date, run_date: dt.date) -> list[tuple[dt.date, dt.date, int | None]]:
    """(first, last run date, row limit) to send from: ``run_date`` in full, then earlier."""
    windows = [(run_date, run_date, None)]
    if first < run_date:
        windows.append((first, run_date - dt.timedelta(days=1), EARLIER_PER_RUN))
    return windows


class WeComUnreachable(Exception):
    """WeCom could not be reached at all: the run stops; nothing was sent or counted."""


def _send_one(client: WeComClient, push_ids, send, commit) -> str:
    """One attempt for one row (or one Moments group): claim, reconcile, send, record.

    :returns: the outcome counted by ``push``: ``"sent"`` (WeCom tasks created),
        ``"adopted"`` (found in WeCom, nothing new created), ``"pending"`` or ``"failed"``.
    """
    ids = push_ids if isinstance(push_ids, list) else [push_ids]
    rows = [db.session.get(WeComPush, i) for i in ids]
    was_uncertain = any(row.is_uncertain for row in rows)
    previous = {row.id: (row.attempted_at, row.is_uncertain) for row in rows}
    since = min((row.attempted_at for row in rows if row.attempted_at), default=None)
    won = outbox.claim(ids, client.now())
    commit()
    if not won:
        return "pending"
    rows = [db.session.get(WeComPush, i) for i in won]
    try:
        adopted = bool(was_uncertain and since and reconcile.adopt(client, rows, since))
        if adopted and all(row.state is PushState.sent for row in rows):
            return _finish(commit, "adopted")  # a Moments task: nothing left to send
        if any(row.task.post.status is not PostStatus.published for row in rows):
            for row in rows:
                outbox.mark_failed(row, "post withdrawn while it was being pushed"
                                   if row.msgids else "post withdrawn before it was pushed")
            return _finish(commit, "failed")
        created = send(client, rows, commit)
        return _finish(commit, "adopted" if adopted and not created else "sent")
    except WeComTransportError as error:
        if not error.may_have_arrived:
            for row in rows:  # never reached WeCom: the attempt does not count
                row.attempted_at, row.is_uncertain = previous[row.id]
                row.attempts -= 1
                row.last_error = f"WeCom unreachable: {error.errmsg}"
            commit()
            raise WeComUnreachable(error.errmsg) from error
        return _retry(rows, commit, f"no answer from WeCom: {error.errmsg}", uncertain=True)
    except RETRYABLE as error:
        return _retry(rows, commit, f"errcode {error.code}", uncertain=was_uncertain)
    except (WeComError, ValueError) as error:
        for row in rows:
            outbox.mark_failed(row, str(error))
        return _finish(commit, "failed")


def _finish(commit, outcome: str) -> str:
    commit()
    return outcome


def _retry(rows, commit, message: str, *, uncertain: bool) -> str:
    for row in rows:
        outbox.mark_retry(row, message, uncertain=uncertain)
    commit()
    return "failed" if rows[0].state is PushState.failed else "pending"


def _chart(row: WeComPush) -> tuple[bytes, str] | None:
    chart = row.task.post.chart_image
    if chart is None:
        return None
    png, _sha256 = chart_image(chart.run_date, chart.spec_name)
    return png, f"{chart.spec_name}.png"


def _send_mass_message(client: WeComClient, rows: list[WeComPush],
                       commit: Callable[[], None]) -> int:
    """Send a 群发 row's customers not sent yet, one WeCom task per chunk; mark it sent.

    Each chunk's range is committed before its call and its ``msgid`` as soon as WeCom
    accepts it, so when a later chunk fails the row stays pending with the accepted
    chunks recorded, and its retry sends only the rest (``chunks.remaining``).

    :returns: WeCom tasks created by this call (0 when reconcile had found the last one).
    :raises ValueError: no WeCom userid, text over ``api.TEXT_MAX_BYTES``, or nobody
        matches the plan's customer filter (and nothing was sent before).
    """
    (row,) = rows
    sender, text = row.task.staff.wecom_userid, row.task.text
    if not sender:
        raise ValueError("staff member has no WeCom userid (users.wecom_userid)")
    if len(text.encode()) > api.TEXT_MAX_BYTES:
        raise ValueError(f"text exceeds {api.TEXT_MAX_BYTES} bytes")
    recipients = _recipients(row)
    if recipients == [] and not row.msgids:
        raise ValueError("no contact of the staff member matches the plan's customer filter "
                         "(segments, or contacts to welcome)")
    todo = chunks.remaining(row, recipients)
    chart = _chart(row) if todo else None
    for chunk in todo:
        def create(media_id, chunk=chunk):
            return api.add_msg_template(client, sender=sender, text=text,
                                        image_media_id=media_id, external_userids=chunk)

        message = chunks.begin(row, chunk, client.now())
        commit()  # the chunk is on record before WeCom may create it (reconcile)
        result = (with_media(client, chart[0], chart[1], attachment=False, use=create)
                  if chart else create(None))
        chunks.accept(row, message, result["msgid"], result["fail_list"], client.now())
        commit()  # accepted: no retry sends this chunk again
    outbox.mark_sent(row, client.now())
    return len(todo)


def _recipients(row: WeComPush) -> list[str] | None:
    """The customer filter of a 群发 row (``external_userid`` list, or ``None`` = all).

    Customer segments and welcome sequences narrow it (``app.connector.segments``).
    """
    post = row.task.post
    return segments.recipients(post.sop_plan, row.task.staff_id, post.run_date)


def _moment_groups(push_ids: list[int]) -> list[list[int]]:
    """Pending Moments rows grouped by post and text: one WeCom task per group."""
    if not push_ids:
        return []
    groups: dict[tuple, list[int]] = {}
    for row in db.session.scalars(select(WeComPush).where(WeComPush.id.in_(push_ids))):
        groups.setdefault((row.task.post_id, row.task.text), []).append(row.id)
    return list(groups.values())


def _send_moment(client: WeComClient, rows: list[WeComPush], commit) -> int:
    """Create one Moments task for ``rows`` (same post and text); returns tasks created."""
    for row in rows:
        if not row.task.staff.wecom_userid:
            outbox.mark_failed(row, "staff member has no WeCom userid (users.wecom_userid)")
    rows = [row for row in rows if row.task.staff.wecom_userid]
    if not rows:
        return 0
    text = rows[0].task.text
    if len(text) > api.MOMENT_TEXT_MAX_CHARS:
        raise ValueError(f"text exceeds {api.MOMENT_TEXT_MAX_CHARS} characters")
    chart = _chart(rows[0])
    senders = [row.task.staff.wecom_userid for row in rows]

    def create(media_id):
        return api.add_moment_task(client, senders=senders, text=text,
                                   image_media_ids=[media_id] if media_id else [])

    jobid = (with_media(client, chart[0], chart[1], attachment=True, use=create) if chart
             else create(None))
    for row in rows:
        outbox.mark_sent(row, client.now(), jobid=jobid)
    return 1


def poll_moment_jobs(client: WeComClient, commit: Callable[[], None]) -> int:
    """Poll ``get_moment_task_result`` for sent rows without a moment id; record the result.

    Polls each job up to ``MOMENT_POLLS`` times, waiting ``MOMENT_POLL_SECONDS`` (the
    client's ``sleep``) between polls. A sender WeCom lists as invalid fails its row.

    :returns: number of jobs finished in this call.
    """
    open_rows = list(db.session.scalars(select(WeComPush).where(
        WeComPush.action == PushAction.moments_post, WeComPush.state == PushState.sent,
        WeComPush.jobid.is_not(None), WeComPush.moment_id.is_(None))))
    jobs: dict[str, list[WeComPush]] = {}
    for row in open_rows:
        jobs.setdefault(row.jobid, []).append(row)
    done = 0
    for jobid, rows in jobs.items():
        for poll in range(MOMENT_POLLS):
            if poll:
                client.sleep(MOMENT_POLL_SECONDS)
            state = api.get_moment_task_result(client, jobid)
            if state["status"] == 3:
                _record_moment(rows, state["result"])
                done += 1
                break
        commit()
    return done


def _record_moment(rows: list[WeComPush], result: dict) -> None:
    invalid = set((result.get("invalid_sender_list") or {}).get("user_list") or [])
    for row in rows:
        if result.get("errcode"):
            outbox.mark_failed(row, f"moment job errcode {result.get('errcode')}")
        elif row.task.staff.wecom_userid in invalid:
            outbox.mark_failed(row, "WeCom lists the sender as invalid")
        else:
            row.moment_id = result.get("moment_id")
