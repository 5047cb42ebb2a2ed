"""Find in WeCom a push whose call got no answer, so that it is never created twice.

WeCom's create calls take no idempotency key. After a timeout the connector looks for
a task WeCom created from that attempt: a mass message (``get_groupmsg_list_v2``) or a
Moments post (``get_moment_list``) created since the attempt, with the same text, whose
task list names the same member, and whose id no outbox row or message holds. A 群发 row
sent in chunks (``app.connector.chunks``) has its accepted messages' ids stored, so the
one found is the chunk that was in flight.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select

from app.connector import chunks, outbox
from app.connector.models import PushAction, WeComPush, WeComPushMessage
from app.core.extensions import db
from app.wecom import api
from app.wecom.client import WeComClient

logger = logging.getLogger(__name__)
#: Look this far before the attempt's claim time (clocks differ).
SLACK_SECONDS = 120


def adopt(client: WeComClient, rows: list[WeComPush], since: dt.datetime) -> bool:
    """Adopt the WeCom task created by an unanswered attempt of ``rows``, if there is one.

    :param since: claim time of the unanswered attempt (WeCom created it after that).
    :returns: ``True`` when found, else ``False``: nothing was created and the caller may
        send. Moments rows found are ``sent`` with the moment id; a 群发 row's message in
        flight gets the ``msgid`` found and the row stays claimed: the caller sends the
        chunks still left (``chunks.remaining``), if any, and marks it sent.
    :raises NotReadyYet: WeCom is still dispatching a candidate (41063): try again later.
    """
    first = rows[0]
    start = int(since.timestamp()) - SLACK_SECONDS
    end = int(client.clock()) + 60
    senders = {row.task.staff.wecom_userid for row in rows}
    if first.action is PushAction.mass_message:
        found = _find_mass_message(client, first.task.text, senders, start, end)
    else:
        found = _find_moment(client, first.task.text, senders, start, end)
    if found is None:
        logger.info("wecom reconcile push_id=%s: not created, sending", first.id)
        return False
    if first.action is PushAction.mass_message:
        chunks.accept(first, chunks.in_flight(first), found, [], client.now())
    else:
        for row in rows:
            outbox.mark_sent(row, client.now(), moment_id=found)
    logger.info("wecom reconcile push_id=%s: adopted the task WeCom created", first.id)
    return True


def _known(column, value: str) -> bool:
    return db.session.scalar(select(column).where(column == value).limit(1)) is not None


def _find_mass_message(client, text: str, senders: set, start: int, end: int) -> str | None:
    for item in client.paginate("externalcontact/get_groupmsg_list_v2", {
            "chat_type": "single", "start_time": start, "end_time": end, "filter_type": 0,
            "limit": 100}, "group_msg_list"):
        msgid = item.get("msgid")
        if ((item.get("text") or {}).get("content") != text
                or _known(WeComPushMessage.msgid, msgid)):
            continue
        if {t.get("userid") for t in api.get_groupmsg_task(client, msgid)} & senders:
            return msgid
    return None


def _find_moment(client, text: str, senders: set, start: int, end: int) -> str | None:
    for item in client.paginate("externalcontact/get_moment_list", {
            "start_time": start - 1, "end_time": end, "filter_type": 0, "limit": 20},
            "moment_list"):
        moment_id = item.get("moment_id")
        if (item.get("text") or {}).get("content") != text or _known(WeComPush.moment_id,
                                                                     moment_id):
            continue
        if {t.get("userid") for t in api.get_moment_task(client, moment_id)} & senders:
            return moment_id
    return None

