"""Contact events from WeCom: the one way the connector (``app.wecom``) writes contacts.

WeCom's ``change_external_contact`` callbacks (``add_external_contact``,
``del_external_contact``, ``del_follow_user``) map onto :func:`record_contact_added` and
:func:`record_contact_removed`. Both are idempotent, so a callback delivered twice, or an
event that a later contacts import also carries, never duplicates a row. They flush; the
caller commits its unit of work.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from app.core.extensions import db
from app.core.upserts import insert_on_conflict
from app.customers.models import ContactType, WecomContact


def record_contact_added(staff_id: int, external_userid: str, added_at: dt.datetime, *,
                         add_way: int | None = None,
                         contact_type: ContactType | int = ContactType.wechat,
                         corp_name: str | None = None) -> bool:
    """Store that staff member ``staff_id`` added ``external_userid`` at ``added_at``.

    :param staff_id: ``users.id`` of the follow user (resolve WeCom's userid through
        ``users.wecom_userid``).
    :param external_userid: WeCom's external contact id.
    :param added_at: aware instant of the add (WeCom's ``createtime``).
    :param add_way: WeCom's ``add_way`` code, if known.
    :param contact_type: 1 WeChat user, 2 WeCom user (then ``corp_name`` names its corp).
    :returns: ``True`` when a new contact row was stored, ``False`` when it already existed
        (same staff, contact and add time).
    :raises ValueError: a naive ``added_at``.
    """
    if added_at.tzinfo is None:
        raise ValueError("added_at must be an aware datetime")
    table = WecomContact.__table__
    statement = (insert_on_conflict(table)
                 .on_conflict_do_nothing(index_elements=["staff_id", "external_userid", "added_at"])
                 .returning(table.c.id))
    row = {"staff_id": staff_id, "external_userid": external_userid, "added_at": added_at,
           "add_way": add_way, "contact_type": int(contact_type), "corp_name": corp_name,
           "removed_at": None}
    return db.session.execute(statement, [row]).first() is not None


def record_contact_removed(staff_id: int, external_userid: str, removed_at: dt.datetime) -> int:
    """End the open relationship(s) of ``staff_id`` with ``external_userid`` at ``removed_at``.

    Deleted by either side: the staff member removed the customer, or the customer deleted
    the staff member. Only rows added at or before ``removed_at`` and still open change, so
    a repeated event changes nothing.

    :returns: the number of contact rows ended (0 when none was open).
    :raises ValueError: a naive ``removed_at``.
    """
    if removed_at.tzinfo is None:
        raise ValueError("removed_at must be an aware datetime")
    result = db.session.execute(
        update(WecomContact)
        .where(WecomContact.staff_id == staff_id, WecomContact.external_userid == external_userid,
               WecomContact.removed_at.is_(None), WecomContact.added_at <= removed_at)
        .values(removed_at=removed_at)
        .execution_options(synchronize_session=False))
    return result.rowcount
