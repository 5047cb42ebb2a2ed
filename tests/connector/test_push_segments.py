"""Issue 9: a 群发 plan with customer segments sends only to the sender's contacts in them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.broadcasts.plan_models import PlanAudience
from app.connector import outbox, push
from app.connector.models import PushAction, PushState, WeComPush
from app.content.models import WECOM_SENT_CHANNELS, Channel
from app.core.extensions import db as _db
from tests.connector.conftest import DAY
from tests.factories import (
    CustomerFactory,
    VerificationFactory,
    WecomContactFactory,
    segment,
)


def _commit():
    _db.session.commit()


def _contact(staff, external_userid, segment_code, **customer):
    added = WecomContactFactory(staff=staff, external_userid=external_userid,
                                removed_at=customer.pop("removed_at", None))
    person = CustomerFactory(rm=staff, segment=segment(segment_code), **customer)
    VerificationFactory(external_userid=external_userid, customer_ref=person.customer_ref)
    return added


def test_segment_plan_sends_to_the_senders_contacts_in_the_segments_only(connected, fake,
                                                                         make_post):
    post, (with_vip, without) = make_post(Channel.mass_message, staff_count=2, customers=0)
    ids = fake.add_staff(with_vip.staff.wecom_userid, customers=5)
    vip, private = segment("vip"), segment("private")
    _contact(with_vip.staff, ids[0], "vip")
    _contact(with_vip.staff, ids[1], "private")
    _contact(with_vip.staff, ids[2], "mass")  # another segment
    _contact(with_vip.staff, ids[3], "vip", marketing_opt_out=True)  # refused marketing
    removed = _contact(with_vip.staff, ids[4], "vip")
    removed.removed_at = removed.added_at  # no longer a contact
    _contact(without.staff, "wm-other", "mass")
    _db.session.add_all([PlanAudience(sop_plan_id=post.sop_plan_id, segment_id=vip.id,
                                      position=1),
                         PlanAudience(sop_plan_id=post.sop_plan_id, segment_id=private.id,
                                      position=2)])
    _db.session.commit()
    summary = push.push(connected, DAY, _commit)
    assert summary["sent"] == 1 and summary["failed"] == 1
    rows = {r.task_id: r for r in _db.session.scalars(
        select(WeComPush).where(WeComPush.action == PushAction.mass_message))}
    sent = rows[with_vip.id]
    assert sorted(fake.msgs[sent.msgids[0]]["sends"]) == sorted(ids[:2])
    assert rows[without.id].state is PushState.failed
    assert "customer filter" in rows[without.id].last_error


def test_a_plan_without_segments_sends_to_all_the_senders_customers(connected, fake, make_post):
    post, [task] = make_post(Channel.mass_message, staff_count=1, customers=4)
    push.push(connected, DAY, _commit)
    [row] = _db.session.scalars(select(WeComPush)).all()
    assert len(fake.msgs[row.msgids[0]]["sends"]) == 4


def test_the_plans_channel_decides_the_push_not_the_templates(connected, fake, make_post):
    post, [task] = make_post(Channel.moments_post, staff_count=1)
    post.sop_plan.channel = Channel.mass_message
    _db.session.commit()
    push.push(connected, DAY, _commit)
    assert [r.action for r in _db.session.scalars(select(WeComPush))] == [
        PushAction.mass_message]


def test_a_channel_edited_after_the_push_does_not_send_the_task_again(connected, fake,
                                                                      make_post):
    post, [task] = make_post(Channel.moments_post, staff_count=1)
    push.push(connected, DAY, _commit)
    post.sop_plan.channel = Channel.mass_message  # edited after today's post went out
    _db.session.commit()
    push.push(connected, DAY, _commit)
    assert [r.action for r in _db.session.scalars(select(WeComPush))] == [
        PushAction.moments_post]
    assert fake.msgs == {}  # no 群发 of the same post


def test_a_welcome_plan_sends_only_to_the_contacts_added_n_days_before(connected, fake,
                                                                        make_post):
    post, [task] = make_post(Channel.mass_message, staff_count=1, customers=0)
    ids = fake.add_staff(task.staff.wecom_userid, customers=3)
    post.sop_plan.schedule = "after-add:2@10:00"
    welcomed = dt.datetime.combine(DAY - dt.timedelta(days=2), dt.time(15, 0), tzinfo=dt.UTC)
    WecomContactFactory(staff=task.staff, external_userid=ids[0], added_at=welcomed)
    WecomContactFactory(staff=task.staff, external_userid=ids[1],
                        added_at=welcomed - dt.timedelta(days=1))
    _db.session.commit()
    push.push(connected, DAY, _commit)
    [row] = _db.session.scalars(select(WeComPush)).all()
    assert list(fake.msgs[row.msgids[0]]["sends"]) == [ids[0]]


def test_the_outbox_pushes_exactly_the_channels_wecom_sends():
    """Notes are refused for these channels (``app.feed.notes``): the two lists are one."""
    assert set(outbox.CHANNEL_ACTIONS) == WECOM_SENT_CHANNELS
