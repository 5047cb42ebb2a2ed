"""Read every member's customers from WeCom (``batch/get_by_user``) as contact events.

Each (member, customer, add time) becomes an ``add_external_contact`` event with the same
key a callback for that add would have, so a sync and the callbacks never double count.
Only pseudonymous fields are kept: no names, avatars, remarks or phone numbers. Stored
events of members who have been linked to a user since they arrived are applied too
(``contact_events.apply_pending``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import select, update

from app.connector.contact_events import apply_pending, record_event
from app.core.extensions import db
from app.org.models import Role, User
from app.wecom import api
from app.wecom.client import WeComClient

BATCH_USERS = 100  # batch/get_by_user takes at most 100 userids


def sync_contacts(client: WeComClient, commit: Callable[[], None]) -> dict:
    """Store every customer of the members known to Zhongtai (``users.wecom_userid``).

    :returns: ``{"members": n, "members_unknown": m, "contacts": seen, "contacts_new": k,
        "events_applied_late": a, "synced_at": ISO instant}``.
    """
    follow = set(api.get_follow_user_list(client))
    known = set(db.session.scalars(select(User.wecom_userid).where(
        User.wecom_userid.in_(sorted(follow))))) if follow else set()
    userids = sorted(known)
    seen = new = 0
    now = client.now()
    for first in range(0, len(userids), BATCH_USERS):
        for item in api.batch_get_by_user(client, userids[first:first + BATCH_USERS]):
            info, contact = item.get("follow_info") or {}, item.get("external_contact") or {}
            seen += 1
            new += record_event({
                "Event": "change_external_contact", "ChangeType": "add_external_contact",
                "UserID": str(info.get("userid", "")),
                "ExternalUserID": str(contact.get("external_userid", "")),
                "CreateTime": str(int(info.get("createtime") or 0)),
                "State": str(info.get("state") or ""),
                "AddWay": str(info.get("add_way", "")), "ContactType": str(
                    contact.get("type") or 1), "CorpName": str(contact.get("corp_name") or "")},
                now)
        commit()
    late = apply_pending(now=now)
    commit()
    return {"members": len(userids), "members_unknown": len(follow - known), "contacts": seen,
            "contacts_new": new, "events_applied_late": late,
            "synced_at": dt.datetime.isoformat(now)}


def link_demo_staff() -> list[str]:
    """Demo only: give demo front-line users without one a WeCom userid (their username).

    :returns: the WeCom userids of every demo front-line user, sorted.
    """
    db.session.execute(update(User).where(
        User.is_demo.is_(True), User.role == Role.frontline, User.wecom_userid.is_(None))
        .values(wecom_userid=User.username).execution_options(synchronize_session=False))
    return sorted(db.session.scalars(select(User.wecom_userid).where(
        User.is_demo.is_(True), User.role == Role.frontline)))
