"""A 群发 to more customers than WeCom takes in one call (10,000, §2.1) goes as several tasks.

The fake server refuses an ``external_userid`` list over the limit (40058), so these tests
fail without the split. The customers are bulk-inserted (three INSERTs of 10,001 rows).
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import insert, select, update

from app.broadcasts.models import TaskStatus
from app.broadcasts.plan_models import PlanAudience
from app.connector import pull, push, reminders, withdraw
from app.connector.models import PushAction, PushState, WeComPush
from app.content.models import Channel
from app.core.extensions import db as _db
from app.customers.models import Customer, Verification, WecomContact
from app.org.models import Role
from app.wecom import api
from tests.connector.conftest import DAY, DUE
from tests.factories import UserFactory, segment

PATH = "externalcontact/add_msg_template"
LIMIT = api.EXTERNAL_USERIDS_MAX
ADDED = dt.datetime(2025, 4, 10, 2, 0, tzinfo=dt.UTC)


def _commit():
    _db.session.commit()


def _vip_contacts(post, task, external_userids):
    """Make ``external_userids`` the staff member's VIP contacts and the plan's audience."""
    vip, staff_id = segment("vip"), task.staff_id
    refs = [f"CB{n:07d}" for n in range(len(external_userids))]
    _db.session.execute(insert(Customer), [
        {"customer_ref": ref, "rm_id": staff_id, "segment_id": vip.id, "province_code": "33"}
        for ref in refs])
    _db.session.execute(insert(Verification), [
        {"external_userid": external_userid, "customer_ref": ref, "method": "link",
         "verified_at": ADDED} for external_userid, ref in zip(external_userids, refs,
                                                               strict=True)])
    _db.session.execute(insert(WecomContact), [
        {"staff_id": staff_id, "external_userid": external_userid, "added_at": ADDED,
         "add_way": 1, "contact_type": 1} for external_userid in external_userids])
    _db.session.add(PlanAudience(sop_plan_id=post.sop_plan_id, segment_id=vip.id, position=1))
    _commit()


@pytest.fixture
def big_post(make_post, fake):
    """A VIP 群发 whose one staff member has ``LIMIT + 1`` VIP contacts in WeCom, and two
    more (``wm0…``, first, and ``wmz…``, last) that WeCom no longer knows (``fail_list``).

    :returns: (post, task, the ``LIMIT + 3`` recipients sorted).
    """
    post, (task,) = make_post(Channel.mass_message, staff_count=1, customers=0)
    in_wecom = fake.add_staff(task.staff.wecom_userid, customers=LIMIT + 1)
    gone = ["wm0-gone", "wmz-gone"]
    _vip_contacts(post, task, in_wecom + gone)
    return post, task, sorted(in_wecom + gone)


def _row(task) -> WeComPush:
    return _db.session.scalar(select(WeComPush).where(
        WeComPush.task_id == task.id, WeComPush.action == PushAction.mass_message))


def _sends(fake, msgid) -> list[str]:
    return sorted(fake.msgs[msgid]["sends"])


def test_a_row_over_wecoms_limit_becomes_one_wecom_task_per_chunk(connected, fake, big_post):
    post, task, recipients = big_post
    summary = push.push(connected, DAY, _commit)
    assert summary["sent"] == 1 and summary["failed"] == 0
    row = _row(task)
    assert row.state is PushState.sent and row.failed_customers == 2  # one in each chunk
    first, second = row.messages
    assert (first.seq, first.recipients, second.seq, second.recipients) == (0, LIMIT, 1, 3)
    assert (first.first_external_userid, second.last_external_userid) == (
        recipients[0], recipients[-1])
    assert (first.failed_customers, second.failed_customers) == (1, 1)
    assert row.msgids == [first.msgid, second.msgid] and set(row.msgids) == set(fake.msgs)
    assert fake.count(PATH) == 2 and fake.uploads == 1  # the chart uploaded once
    assert _sends(fake, first.msgid) + _sends(fake, second.msgid) == recipients[1:-1]
    assert all(fake.msgs[m]["attachments"][0]["msgtype"] == "image" for m in row.msgids)
    assert push.push(connected, DAY, _commit)["sent"] == 0 and fake.count(PATH) == 2


@pytest.fixture
def one_try(make_client, app, monkeypatch):
    """A client that calls WeCom once per attempt (no in-call retries)."""
    client = make_client(max_attempts=1)
    monkeypatch.setitem(app.extensions, "wecom.client", client)
    return client


def test_a_failed_second_chunk_is_retried_alone(connected, one_try, fake, big_post, clock):
    post, task, recipients = big_post
    fake.set_limit(PATH, 1, 60.0)  # the second call within the minute: 45009
    assert push.push(one_try, DAY, _commit)["pending"] == 1
    row = _row(task)
    accepted, in_flight = row.messages
    assert row.state is PushState.pending and not row.is_uncertain and row.attempts == 1
    assert accepted.msgid in fake.msgs and in_flight.msgid is None
    assert row.msgids == [accepted.msgid] and len(fake.msgs) == 1
    # a contact of the first chunk leaves before the retry: the rest stays the rest
    _db.session.execute(update(WecomContact).where(
        WecomContact.external_userid == recipients[1]).values(removed_at=DUE))
    _commit()
    clock.advance(60)
    assert push.push(one_try, DAY, _commit)["sent"] == 1
    _db.session.refresh(row)
    assert row.state is PushState.sent and row.attempts == 2 and row.failed_customers == 2
    assert [m.seq for m in row.messages] == [0, 1]  # the message in flight was reused
    assert fake.count(PATH) == 3 and len(fake.msgs) == 2
    (retried,) = set(row.msgids) - {accepted.msgid}
    assert _sends(fake, retried) == recipients[LIMIT:-1]  # only the last chunk, once
    assert _sends(fake, accepted.msgid) == recipients[1:LIMIT]


def test_an_unanswered_chunk_is_adopted_and_only_the_rest_is_sent(
        connected, fake, big_post, make_client, clock, app, monkeypatch):
    impatient = make_client(timeout_seconds=0.3)
    monkeypatch.setitem(app.extensions, "wecom.client", impatient)
    post, task, recipients = big_post
    release = fake.hold(PATH)
    assert push.push(impatient, DAY, _commit)["pending"] == 1
    release.set()
    row = _row(task)
    (in_flight,) = row.messages
    assert row.is_uncertain and in_flight.msgid is None and in_flight.recipients == LIMIT
    assert len(fake.msgs) == 1  # WeCom did create the first chunk
    clock.advance(301)
    assert push.push(impatient, DAY, _commit)["sent"] == 1
    _db.session.refresh(row)
    assert row.state is PushState.sent and set(row.msgids) == set(fake.msgs)
    assert fake.count(PATH) == 2  # the first chunk adopted, the second sent once
    assert sorted(s for m in row.msgids for s in _sends(fake, m)) == recipients[1:-1]


def test_results_reminders_and_withdraw_cover_every_chunk(connected, fake, big_post, clock):
    post, task, recipients = big_post
    push.push(connected, DAY, _commit)
    first, second = _row(task).msgids
    clock.advance(60)  # WeCom has dispatched both
    fake.staff_sends(first, at=DUE.timestamp() - 600, failed={recipients[1]: 2})
    assert pull.pull(connected, DAY, DAY, _commit)["mass_unsent"] == 1  # one still to send
    clock.advance(3 * 3600)  # overdue: both messages are reminded, one line in 日跟踪
    assert reminders.remind_overdue(connected, 30, _commit) == 2
    assert fake.count("externalcontact/remind_groupmsg_send") == 2
    assert len(withdraw.reminders_of(UserFactory(role=Role.editor), post.id)) == 1
    fake.staff_sends(second, at=DUE.timestamp() + 600)
    summary = pull.pull(connected, DAY, DAY, _commit)
    assert summary["mass_sent"] == 1 and summary["reach"] == LIMIT + 1 - 1
    _db.session.refresh(task)
    assert task.status is TaskStatus.done and task.reach_count == LIMIT
    assert task.completed_at == DUE + dt.timedelta(minutes=10)  # when the last was sent
    assert _row(task).state is PushState.confirmed
    withdraw.withdraw_post(UserFactory(role=Role.editor), post.id, "数据有误", connected.now())
    _commit()
    assert push.push(connected, DAY, _commit)["cancelled"] == 1
    assert fake.msgs[first]["cancelled"] and fake.msgs[second]["cancelled"]


def test_a_row_given_up_after_its_first_chunk_is_still_reminded_and_measured(
        connected, one_try, fake, big_post, clock):
    post, task, recipients = big_post
    fake.set_limit(PATH, 1, 60.0)  # the second chunk: 45009, retried later
    push.push(one_try, DAY, _commit)
    clock.advance(60)
    fake.fail_next(PATH, 40058)  # the retry of the second chunk is refused for good
    assert push.push(one_try, DAY, _commit)["failed"] == 1
    row = _row(task)
    (first,) = row.msgids
    assert row.state is PushState.failed and len(fake.msgs) == 1
    clock.advance(3 * 3600)  # overdue: the accepted message is still the staff's to send
    assert reminders.remind_overdue(one_try, 30, _commit) == 1
    fake.staff_sends(first, at=DUE.timestamp() + 300)
    summary = pull.pull(one_try, DAY, DAY, _commit)
    assert summary["mass_sent"] == 1 and summary["reach"] == LIMIT - 1  # wm0-gone failed
    _db.session.refresh(task)
    assert task.status is TaskStatus.done and task.reach_count == LIMIT - 1
    assert task.completed_at == DUE + dt.timedelta(minutes=5)
    assert _row(task).state is PushState.failed  # the last chunk's customers got nothing
