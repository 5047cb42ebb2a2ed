"""A 群发 row's customers in WeCom-sized messages, and the record of each message sent.

WeCom takes at most ``api.EXTERNAL_USERIDS_MAX`` (10,000) ``external_userid`` per
``add_msg_template`` call (../shared/wecom-api.md §2.1; more → 40058), so a row whose
customer filter lists more customers is sent as several mass messages, each a
``wecom_push_messages`` row (:class:`WeComPushMessage`) and its own WeCom task.

Chunks are ranges of the filter's ids sorted by code point: a chunk WeCom accepted
covers every id from its first to its last. A retry sends only the customers outside the
accepted ranges, so the customers of an accepted chunk never get the message twice, even
when the filter changed in between (contacts added or removed); a customer added since
whose id falls inside an accepted range is not sent to, as after any push. A message to
all customers (no filter, ``None``) is one message and never split.
"""

from __future__ import annotations

import datetime as dt

from app.connector.models import WeComPush, WeComPushMessage
from app.core.extensions import db
from app.wecom import api


def remaining(push: WeComPush, recipients: list[str] | None,
              size: int = api.EXTERNAL_USERIDS_MAX) -> list[list[str] | None]:
    """The chunks of ``recipients`` that no accepted message of ``push`` covers yet.

    :param recipients: the row's ``external_userid`` filter (``segments.recipients``), or
        ``None`` for all the sender's customers.
    :param size: most ids in one chunk.
    :returns: lists of at most ``size`` distinct ids, sorted by code point, in send order;
        ``[None]`` for an unfiltered row not sent yet; ``[]`` when nothing is left (a row
        that sent anything to all its customers is done whatever its filter is now).
    """
    accepted = [message for message in push.messages if message.msgid]
    if recipients is None:
        return [] if accepted else [None]
    left = sorted({external_userid for external_userid in recipients
                   if not any(message.covers(external_userid) for message in accepted)})
    return [left[start:start + size] for start in range(0, len(left), size)]


def in_flight(push: WeComPush) -> WeComPushMessage | None:
    """The message of ``push`` whose call has no accepted answer yet, if any (at most one)."""
    return next((message for message in push.messages if message.msgid is None), None)


def begin(push: WeComPush, chunk: list[str] | None, now: dt.datetime) -> WeComPushMessage:
    """Record the chunk about to be sent (the caller commits before calling WeCom).

    The message in flight of an earlier attempt (refused, or not found in WeCom) is reused
    for the new chunk, so its ``seq`` stays and a row has one message in flight at most.
    The row's ``attempted_at`` moves to ``now``: the claim lasts ``outbox.CLAIM_SECONDS``
    from each chunk, and reconcile looks for the chunk in flight from its own start.

    :param chunk: the sorted ids of the call, or ``None`` for all customers.
    :param now: aware UTC instant of the call.
    :returns: the message, ``msgid`` still ``None``.
    """
    message = in_flight(push)
    if message is None:
        message = WeComPushMessage(push=push, seq=len(push.messages), failed_customers=0)
        db.session.add(message)
    message.attempted_at = push.attempted_at = now
    message.first_external_userid = chunk[0] if chunk else None
    message.last_external_userid = chunk[-1] if chunk else None
    message.recipients = len(chunk) if chunk is not None else None
    return message


def accept(push: WeComPush, message: WeComPushMessage | None, msgid: str,
           fail_list: list[str], now: dt.datetime) -> None:
    """WeCom accepted (or reconcile found) a message: store its ``msgid`` and failures.

    :param message: the message in flight; ``None`` (a row sent before messages were
        recorded per chunk) records one to all customers.
    :param fail_list: the call's ``fail_list`` (``[]`` when found by reconcile).
    :param now: aware UTC instant WeCom answered.
    """
    if message is None:
        message = begin(push, None, push.attempted_at or now)
    message.msgid, message.sent_at = msgid, now
    message.failed_customers = len(fail_list)
    push.failed_customers = sum(m.failed_customers for m in push.messages if m.msgid)
