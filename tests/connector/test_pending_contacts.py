"""Issue 8: contact events of a WeCom member not yet linked to a user are applied later.

When the callback arrives no user has the member's WeCom userid; the event is stored whole
and applied when an admin sets that userid, or on ``flask wecom sync-contacts``.
"""

from __future__ import annotations

import datetime as dt
import json
import time

from sqlalchemy import func, select

from app.admin import services as admin
from app.connector import contact_events
from app.connector.models import OutcomeKind, WeComContactEvent, WeComOutcome
from app.content.models import Channel
from app.core.extensions import db as _db
from app.customers.models import WecomContact
from app.org.models import Role
from tests.connector.test_callbacks import driver  # noqa: F401 - the callback fixture
from tests.factories import UserFactory

NOON = int(time.mktime((2025, 4, 25, 12, 0, 0, 0, 0, -1)))
MORNING = NOON - 3 * 3600


def _contacts() -> dict[str, WecomContact]:
    return {c.external_userid: c for c in _db.session.scalars(select(WecomContact))}


def _count(model) -> int:
    return _db.session.scalar(select(func.count()).select_from(model))


def test_events_before_the_link_are_applied_when_an_admin_sets_the_userid(driver,  # noqa: F811
                                                                          make_post):
    post, (task,) = make_post(Channel.mass_message, staff_count=1)
    staff = task.staff
    staff.wecom_userid = None
    _db.session.commit()
    for message in (
            driver.event_xml("add_external_contact", "rm-late", "wm-a", create_time=MORNING,
                             AddWay="1", ContactType="2", CorpName="某贸易公司"),
            driver.event_xml("add_external_contact", "rm-late", "wm-b", create_time=MORNING),
            driver.event_xml("del_follow_user", "rm-late", "wm-b", create_time=NOON)):
        assert driver.send(message).statuses == [200]
    events = _db.session.scalars(select(WeComContactEvent)).all()
    assert len(events) == 3 and all(e.staff_id is None and e.applied_at is None
                                    for e in events)
    assert _contacts() == {} and _count(WeComOutcome) == 0

    actor = UserFactory(role=Role.admin)
    admin.update_user(actor, staff.id, staff.display_name, staff.role, staff.branch_id,
                      "rm-late")
    _db.session.commit()
    contacts = _contacts()
    assert set(contacts) == {"wm-a", "wm-b"}
    assert (contacts["wm-a"].contact_type, contacts["wm-a"].corp_name,
            contacts["wm-a"].add_way, contacts["wm-a"].removed_at) == (2, "某贸易公司", 1, None)
    assert contacts["wm-b"].removed_at == dt.datetime.fromtimestamp(NOON, dt.UTC)
    (outcome,) = _db.session.scalars(select(WeComOutcome)).all()
    assert (outcome.task_id, outcome.kind, outcome.external_userid) == (
        task.id, OutcomeKind.delete, "wm-b")
    assert all(e.staff_id == staff.id and e.applied_at is not None
               for e in _db.session.scalars(select(WeComContactEvent)))

    admin.update_user(actor, staff.id, "改名", staff.role, staff.branch_id, "rm-late")
    _db.session.commit()  # applying again changes nothing
    assert len(_contacts()) == 2 and _count(WeComOutcome) == 1


def _callback(change_type: str, external_userid: str, at: int) -> None:
    """What ``/wecom/callback`` stores for member ``rm-sync`` (its crypto is tested above)."""
    contact_events.record_event({
        "Event": "change_external_contact", "ChangeType": change_type, "UserID": "rm-sync",
        "ExternalUserID": external_userid, "CreateTime": str(at)}, dt.datetime.now(dt.UTC))


def test_sync_contacts_applies_events_of_members_linked_since(runner, connected, fake):
    staff = UserFactory(role=Role.frontline)
    synced = fake.add_staff("rm-sync", customers=1)
    _callback("add_external_contact", "wm-left", MORNING)
    _callback("del_external_contact", "wm-left", NOON)
    _db.session.commit()
    assert _contacts() == {}
    staff.wecom_userid = "rm-sync"  # linked outside the admin page (e.g. a bulk import)
    _db.session.commit()
    result = runner.invoke(args=["wecom", "sync-contacts"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["contacts_new"] == 1 and summary["events_applied_late"] == 2
    contacts = _contacts()
    assert set(contacts) == {"wm-left", *synced}
    assert contacts["wm-left"].removed_at is not None
    assert contacts[synced[0]].removed_at is None
    again = json.loads(runner.invoke(args=["wecom", "sync-contacts"]).output)
    assert again["events_applied_late"] == 0
