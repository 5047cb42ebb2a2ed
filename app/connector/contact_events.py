"""WeCom ``change_external_contact`` events: parse, store once, count deletions as outcomes.

Events are stored in ``wecom_contact_events`` keyed by a digest of ChangeType, UserID,
ExternalUserID and CreateTime, so WeCom's retries (up to 3 deliveries) store nothing
new. Adds and deletions (either side) of a known member are applied to the customer
layer's contacts (``app.customers.contacts``: valid adds and coverage). A customer
deleting the staff member (``del_follow_user``) is a measured outcome (``delete``) of that
member's latest task published up to that day. Storing is a few indexed statements: the
callback answers well within WeCom's 5 s.

An event of a member no user is linked to yet (no ``users.wecom_userid`` match) is kept
whole and unapplied; :func:`apply_pending` applies it, in the order the events occurred,
when an admin gives a user that WeCom userid or ``flask wecom sync-contacts`` runs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from sqlalchemy import or_, select

from app.broadcasts.models import Post, PostStatus, Task
from app.connector.models import OutcomeKind, WeComContactEvent, WeComOutcome
from app.core.errors import ValidationFailed
from app.core.extensions import db
from app.core.upserts import upsert_returning_ids
from app.customers.contacts import record_contact_added, record_contact_removed
from app.org.models import User

logger = logging.getLogger(__name__)
CHANGE_TYPES = frozenset({"add_external_contact", "edit_external_contact",
                          "del_external_contact", "del_follow_user", "transfer_fail"})
#: A deletion counts against the member's latest task published this many days before.
DELETE_ATTRIBUTION_DAYS = 7
_DETAIL_FIELDS = ("State", "Source", "FailReason")
#: Change types applied to the customer layer's contacts.
APPLIED_TYPES = ("add_external_contact", "del_external_contact", "del_follow_user")


def parse_xml(text: str | bytes) -> dict[str, str]:
    """Top-level fields of a WeCom XML document (``<xml><Name>value</Name>…</xml>``).

    :raises ValidationFailed: malformed XML, entity tricks, or a root other than ``xml``.
    """
    try:
        root = fromstring(text)
    except (ParseError, DefusedXmlException, ValueError) as error:
        raise ValidationFailed("回调内容不是有效的 XML") from error
    if root.tag != "xml":
        raise ValidationFailed("回调内容不是有效的 XML")
    return {child.tag: (child.text or "").strip() for child in root}


def record_event(fields: dict[str, str], received_at: dt.datetime) -> bool:
    """Store one decrypted event if it is a contact change not seen before.

    :param fields: the event's XML fields (``parse_xml``).
    :returns: ``True`` when stored now; ``False`` for a duplicate delivery or an event
        the connector does not handle.
    :raises ValidationFailed: a contact change without UserID, ExternalUserID or a
        numeric CreateTime.
    """
    change_type = fields.get("ChangeType", "")
    if fields.get("Event") != "change_external_contact" or change_type not in CHANGE_TYPES:
        return False
    userid, external_userid = fields.get("UserID", ""), fields.get("ExternalUserID", "")
    if not userid or not external_userid or not fields.get("CreateTime", "").isdigit():
        raise ValidationFailed("回调事件缺少字段")
    occurred_at = dt.datetime.fromtimestamp(int(fields["CreateTime"]), dt.UTC)
    key = hashlib.sha256("\0".join((change_type, userid, external_userid,
                                    fields["CreateTime"])).encode()).hexdigest()
    staff_id = db.session.scalar(select(User.id).where(User.wecom_userid == userid))
    detail = next((fields[f] for f in _DETAIL_FIELDS if fields.get(f)), None)
    add_way, contact_type = fields.get("AddWay", ""), fields.get("ContactType", "")
    stored = upsert_returning_ids(WeComContactEvent, [{
        "event_key": key, "change_type": change_type, "wecom_userid": userid[:64],
        "staff_id": staff_id, "external_userid": external_userid[:64],
        "occurred_at": occurred_at, "detail": detail[:64] if detail else None,
        "add_way": int(add_way) if add_way.isdigit() else None,
        "contact_type": int(contact_type) if contact_type.isdigit() else None,
        "corp_name": (fields.get("CorpName") or "")[:128] or None,
        "received_at": received_at}], ["event_key"])
    if stored and staff_id is not None:
        _apply(db.session.get(WeComContactEvent, stored[0]), staff_id, received_at)
    logger.info("wecom contact event %s staff_id=%s new=%s", change_type, staff_id,
                bool(stored))
    return bool(stored)


def apply_pending(wecom_userids: list[str] | None = None,
                  now: dt.datetime | None = None) -> int:
    """Apply the stored events of members that are now linked to a user, oldest first.

    Events received while no user had their WeCom userid are resolved through
    ``users.wecom_userid`` now: adds and deletions update the customer layer's contacts,
    and a customer deleting the member counts as an outcome, exactly as if the user had
    been linked when the callback came. Applying twice changes nothing.

    :param wecom_userids: only these members (e.g. the userid an admin just set);
        ``None`` for every linked member.
    :param now: aware instant recorded as ``applied_at`` (default: now, UTC).
    :returns: the number of events applied now.
    """
    now = now or dt.datetime.now(dt.UTC)
    query = (select(WeComContactEvent, User.id)
             .join(User, User.wecom_userid == WeComContactEvent.wecom_userid)
             .where(WeComContactEvent.applied_at.is_(None),
                    or_(WeComContactEvent.staff_id.is_(None),
                        WeComContactEvent.change_type.in_(APPLIED_TYPES)))
             .order_by(WeComContactEvent.occurred_at, WeComContactEvent.id))
    if wecom_userids is not None:
        query = query.where(WeComContactEvent.wecom_userid.in_(wecom_userids))
    applied = 0
    for event, staff_id in db.session.execute(query).all():
        event.staff_id = staff_id
        applied += _apply(event, staff_id, now)
    db.session.flush()
    if applied:
        logger.info("wecom contact events applied late: %s", applied)
    return applied


def _apply(event: WeComContactEvent, staff_id: int, now: dt.datetime) -> bool:
    """Apply an add or a deletion to the customer layer's WeCom contacts (idempotent).

    :returns: whether the event is of a type that is applied (then ``applied_at`` is set).
    """
    if event.change_type == "add_external_contact":
        record_contact_added(staff_id, event.external_userid, event.occurred_at,
                             add_way=event.add_way, contact_type=event.contact_type or 1,
                             corp_name=event.corp_name)
    elif event.change_type in ("del_external_contact", "del_follow_user"):
        record_contact_removed(staff_id, event.external_userid, event.occurred_at)
        if event.change_type == "del_follow_user":
            _count_deletion(staff_id, event.external_userid, event.occurred_at,
                            event.event_key)
    else:
        return False
    event.applied_at = now
    return True


def _count_deletion(staff_id: int, external_userid: str, occurred_at: dt.datetime,
                    key: str) -> None:
    day = occurred_at.date()
    task_id = db.session.scalar(
        select(Task.id).join(Post, Task.post_id == Post.id)
        .where(Task.staff_id == staff_id, Post.status == PostStatus.published,
               Post.run_date <= day,
               Post.run_date >= day - dt.timedelta(days=DELETE_ATTRIBUTION_DAYS))
        .order_by(Post.run_date.desc(), Task.id.desc()).limit(1))
    if task_id is None:
        return
    upsert_returning_ids(WeComOutcome, [{
        "wecom_key": key, "task_id": task_id, "external_userid": external_userid[:64],
        "kind": OutcomeKind.delete.value, "occurred_at": occurred_at,
        "source": "wecom"}], ["wecom_key"])
