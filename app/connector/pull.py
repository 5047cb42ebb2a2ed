"""Pull measured outcomes from WeCom for the pushes of a date range.

- 群发: ``get_groupmsg_task`` gives each member's send time; ``get_groupmsg_send_result``
  each customer's delivery. A sent task becomes done at WeCom's send time (on time or
  late against ``due_at``) with reach = customers delivered (status 1); a task sent as
  several messages (over 10,000 customers) once all are sent, at the last send time,
  with reach summed over them.
- 朋友圈: ``get_moment_task`` gives who published; ``get_moment_customer_list`` who could
  see it (reach); ``get_moment_comments`` likes and comments per external user id.
- Staff behaviour: ``get_user_behavior_data`` per member and day (chats, messages,
  reply rate, average reply time, negative feedback).

Everything is stored idempotently on WeCom's ids (``wecom_task_results``,
``wecom_outcomes``, ``wecom_staff_days``): pulling a range again changes nothing unless
WeCom reports something new. Measured figures override what the staff member reported
for the same task (done time and reach); reported events stay in ``interaction_events``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections import Counter
from collections.abc import Callable

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from app.broadcasts.models import Post, PostStatus, Task, TaskStatus
from app.connector.models import (
    OutcomeKind,
    PushAction,
    PushState,
    WeComOutcome,
    WeComPush,
    WeComTaskResult,
)
from app.core.extensions import db
from app.core.upserts import upsert_returning_ids, upsert_rows
from app.wecom import api
from app.wecom.client import WeComClient
from app.wecom.errors import InvalidRequest, NotReadyYet

logger = logging.getLogger(__name__)


def _pushes(action: PushAction, start: dt.date, end: dt.date) -> list[WeComPush]:
    """The range's rows WeCom may hold tasks of: sent, confirmed, or failed.

    A failed 群发 row may have been given up after some of its chunks were accepted; the
    callers skip failed rows without an accepted message.
    """
    return list(db.session.scalars(
        select(WeComPush).join(Task, WeComPush.task_id == Task.id)
        .join(Post, Task.post_id == Post.id)
        .where(WeComPush.action == action,
               WeComPush.state.in_([PushState.sent, PushState.confirmed, PushState.failed]),
               Post.run_date.between(start, end), Post.status == PostStatus.published)
        .options(selectinload(WeComPush.messages)).order_by(WeComPush.id)))


def record_result(task_id: int, sent_at: dt.datetime, delivered: int, now: dt.datetime) -> None:
    """Store WeCom's measurement of a task and make the task done at ``sent_at``.

    The measured send time and reach replace what the staff member reported.
    """
    upsert_rows(WeComTaskResult.__table__, [{"task_id": task_id, "sent_at": sent_at,
                                             "delivered": delivered, "pulled_at": now}],
                keys=("task_id",), update=("sent_at", "delivered", "pulled_at"))
    db.session.execute(update(Task).where(Task.id == task_id).values(
        status=TaskStatus.done, completed_at=sent_at, reach_count=delivered)
        .execution_options(synchronize_session=False))


def pull_mass_messages(client: WeComClient, start: dt.date, end: dt.date,
                       commit: Callable[[], None]) -> Counter:
    """Send status and delivery of the range's mass messages; returns counts.

    A task sent as several messages (chunks of at most ``api.EXTERNAL_USERIDS_MAX``
    customers) is done once the staff member sent every one: at the last send time, with
    the customers delivered summed over the messages. Until then it counts as unsent. A
    row given up after some chunks were accepted is measured over those (the staff member
    still sends them) and stays ``failed``: the customers of the other chunks got nothing.
    """
    counts: Counter = Counter()
    for push in _pushes(PushAction.mass_message, start, end):
        if not push.msgids:
            continue  # failed before WeCom accepted any message: nothing to measure
        try:
            measured = _measure(client, push.msgids, push.task.staff.wecom_userid)
        except NotReadyYet:
            counts["mass_not_ready"] += 1
            continue
        if measured is None:
            counts["mass_unsent"] += 1
            continue
        sent_at, delivered = measured
        record_result(push.task_id, sent_at, delivered, client.now())
        if push.state is PushState.sent:
            push.state = PushState.confirmed
        counts["mass_sent"] += 1
        counts["reach"] += delivered
        commit()
    return counts


def _measure(client: WeComClient, msgids: list[str],
             userid: str) -> tuple[dt.datetime, int] | None:
    """(last send time, customers delivered) over ``msgids``; ``None`` while any is unsent."""
    send_times = []
    for msgid in msgids:
        sent = [t for t in api.get_groupmsg_task(client, msgid)
                if t.get("userid") == userid and int(t.get("status", 0)) == 2]
        if not sent:
            return None
        send_times.append(int(sent[0]["send_time"]))
    if not send_times:
        return None
    delivered = sum(1 for msgid in msgids
                    for row in api.get_groupmsg_send_result(client, msgid, userid)
                    if int(row.get("status", 0)) == 1)
    return dt.datetime.fromtimestamp(max(send_times), dt.UTC), delivered


def pull_moments(client: WeComClient, start: dt.date, end: dt.date,
                 commit: Callable[[], None]) -> Counter:
    """Who published the range's Moments posts, who could see them, likes and comments."""
    counts: Counter = Counter()
    by_moment: dict[str, list[WeComPush]] = {}
    for push in _pushes(PushAction.moments_post, start, end):
        if push.moment_id:
            by_moment.setdefault(push.moment_id, []).append(push)
    for moment_id, pushes in by_moment.items():
        published = {t["userid"] for t in api.get_moment_task(client, moment_id)
                     if int(t.get("publish_status", 0)) == 1}
        for push in pushes:
            if push.task.staff.wecom_userid in published:
                _pull_moment_copy(client, push, counts)
            else:
                counts["moments_unpublished"] += 1
        commit()
    return counts


def _pull_moment_copy(client: WeComClient, push: WeComPush, counts: Counter) -> None:
    userid, now = push.task.staff.wecom_userid, client.now()
    viewers = {row["external_userid"] for row in
               api.get_moment_customer_list(client, push.moment_id, userid)}
    known = db.session.scalar(
        select(WeComTaskResult).where(WeComTaskResult.task_id == push.task_id))
    sent_at = known.sent_at if known is not None else now  # first seen published
    record_result(push.task_id, sent_at, len(viewers), now)
    push.state = PushState.confirmed
    reactions = api.get_moment_comments(client, push.moment_id, userid)
    rows = []
    for kind, items in (("like", reactions["likes"]), ("comment", reactions["comments"])):
        for item in items:
            key = "\0".join((push.moment_id, userid, item["external_userid"], kind,
                             str(item.get("create_time"))))
            rows.append({"wecom_key": hashlib.sha256(key.encode()).hexdigest(),
                         "task_id": push.task_id, "external_userid": item["external_userid"],
                         "kind": OutcomeKind(kind).value, "source": "wecom",
                         "occurred_at": dt.datetime.fromtimestamp(
                             int(item.get("create_time") or 0), dt.UTC)})
    counts["moments_published"] += 1
    counts["reach"] += len(viewers)
    counts["outcomes_new"] += len(upsert_returning_ids(WeComOutcome, rows, ["wecom_key"]))


def pull(client: WeComClient, start: dt.date, end: dt.date,
         commit: Callable[[], None]) -> dict:
    """Pull mass messages and Moments of run dates ``start``..``end`` (inclusive).

    :returns: JSON-ready counts ``{"from", "to", "mass_sent", "reach", ...}``.
    :raises InvalidRequest: when WeCom refuses the range (outside its windows).
    """
    if end < start:
        raise InvalidRequest(None, "end before start", "pull")
    counts = pull_mass_messages(client, start, end, commit)
    counts.update(pull_moments(client, start, end, commit))
    return {"from": start.isoformat(), "to": end.isoformat(), **dict(sorted(counts.items()))}
