"""Push through the outbox to the fake WeCom server: 群发, 朋友圈, timeouts, media, withdraw."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.connector import push, reminders, withdraw
from app.connector.models import PushAction, PushState, WeComPush, WeComReminder
from app.content.models import Channel
from app.core.errors import Conflict, PermissionDenied
from app.core.extensions import db as _db
from app.feed.services import tasks_for_day
from app.org.models import Role
from tests.connector.conftest import DAY
from tests.factories import UserFactory


def _commit():
    _db.session.commit()


def _pushes(action=PushAction.mass_message):
    return list(_db.session.scalars(select(WeComPush).where(WeComPush.action == action)
                                    .order_by(WeComPush.task_id)))


def test_mass_message_push_creates_one_task_per_staff_with_text_and_chart(connected, fake,
                                                                          make_post):
    post, tasks = make_post(Channel.mass_message, staff_count=2)
    summary = push.push(connected, DAY, _commit)
    assert summary["enqueued"] == 2 and summary["sent"] == 2
    rows = _pushes()
    assert [r.state for r in rows] == [PushState.sent, PushState.sent]
    assert {fake.msgs[r.msgids[0]]["sender"] for r in rows} == {t.staff.wecom_userid for t in tasks}
    assert [len(r.msgids) for r in rows] == [1, 1]  # one WeCom task each
    message = fake.msgs[rows[0].msgids[0]]
    assert message["text"] == "今日市场速览"
    assert message["attachments"][0]["msgtype"] == "image"
    assert fake.uploads == 1  # one chart, uploaded once for both tasks
    again = push.push(connected, DAY, _commit)
    assert again["enqueued"] == 0 and again["sent"] == 0
    assert fake.count("externalcontact/add_msg_template") == 2


def test_push_that_times_out_after_wecom_accepted_creates_no_duplicate(
        connected, fake, make_post, make_client, clock, app, monkeypatch):
    impatient = make_client(timeout_seconds=0.3)
    monkeypatch.setitem(app.extensions, "wecom.client", impatient)
    post, (task,) = make_post(Channel.mass_message, staff_count=1)
    release = fake.hold("externalcontact/add_msg_template")
    first = push.push(impatient, DAY, _commit)
    release.set()
    assert first["pending"] == 1
    (row,) = _pushes()
    assert row.state is PushState.pending and row.is_uncertain and row.msgids == []
    assert "no answer" in row.last_error
    assert len(fake.msgs) == 1  # WeCom did create it
    assert push.push(impatient, DAY, _commit)["pending"] == 1  # claim still fresh: wait
    clock.advance(301)
    second = push.push(impatient, DAY, _commit)
    assert second["adopted"] == 1 and second["sent"] == 0
    _db.session.refresh(row)
    assert row.state is PushState.sent and row.msgids == list(fake.msgs)
    assert fake.count("externalcontact/add_msg_template") == 1
    assert len(fake.msgs) == 1


def test_push_that_timed_out_before_wecom_saw_it_is_sent_once(connected, fake, make_post,
                                                              clock):
    post, (task,) = make_post(Channel.mass_message, staff_count=1)
    fake.fail_next("externalcontact/add_msg_template", -1, times=5)  # busy every attempt
    assert push.push(connected, DAY, _commit)["pending"] == 1
    (row,) = _pushes()
    assert not row.is_uncertain and row.attempts == 1
    clock.advance(301)
    assert push.push(connected, DAY, _commit)["sent"] == 1
    assert len(fake.msgs) == 1


def test_expired_media_is_uploaded_again(connected, fake, make_post, clock):
    make_post(Channel.mass_message, staff_count=1)
    push.push(connected, DAY, _commit)
    fake.expire_media()  # WeCom forgot the id although our copy looks fresh
    make_post(Channel.mass_message, staff_count=1)
    summary = push.push(connected, DAY, _commit)
    assert summary["sent"] == 1
    assert fake.uploads == 2
    assert all(r.state is PushState.sent for r in _pushes())
    clock.advance(3 * 86400)  # our copy is 3 days old: uploaded before use
    make_post(Channel.mass_message, staff_count=1)
    push.push(connected, DAY, _commit)
    assert fake.uploads == 3
    assert fake.count("externalcontact/add_msg_template") == 4  # 3 sent + 1 refused (40007)


def test_moments_post_is_one_job_polled_to_its_moment_id(connected, fake, make_post, sleeps):
    post, tasks = make_post(Channel.moments_post, staff_count=3)
    summary = push.push(connected, DAY, _commit)
    assert summary["sent"] == 1 and summary["moments_done"] == 1
    rows = _pushes(PushAction.moments_post)
    assert len({r.jobid for r in rows}) == 1 and all(r.moment_id for r in rows)
    assert fake.count("externalcontact/add_moment_task") == 1
    assert fake.count("externalcontact/get_moment_task_result") == 3
    assert len(sleeps) == 2  # waited between polls, through the injected sleep
    moment = fake.moments[rows[0].moment_id]
    assert set(moment["published"]) == {t.staff.wecom_userid for t in tasks}


def test_staff_without_wecom_userid_fails_with_a_reason(connected, fake, make_post):
    post, (task,) = make_post(Channel.mass_message, staff_count=1)
    task.staff.wecom_userid = None
    _db.session.commit()
    assert push.push(connected, DAY, _commit)["failed"] == 1
    (row,) = _pushes()
    assert row.state is PushState.failed and "wecom_userid" in row.last_error
    assert fake.count("externalcontact/add_msg_template") == 0


def test_withdraw_after_push_cancels_the_mass_message(connected, fake, make_post):
    post, tasks = make_post(Channel.mass_message, staff_count=2)
    push.push(connected, DAY, _commit)
    editor = UserFactory(role=Role.editor)
    withdraw.withdraw_post(editor, post.id, "行情数据有误", connected.now())
    _commit()
    assert tasks_for_day(tasks[0].staff_id, DAY) == []
    summary = push.push(connected, DAY, _commit)
    assert summary["cancelled"] == 2
    assert all(fake.msgs[r.msgids[0]]["cancelled"] for r in _pushes())
    assert [r.state for r in _pushes(PushAction.cancel)] == [PushState.confirmed] * 2
    assert withdraw.withdrawal_of(post.id).reason == "行情数据有误"
    with pytest.raises(Conflict):
        withdraw.withdraw_post(editor, post.id, "again", connected.now())
    with pytest.raises(PermissionDenied):
        withdraw.withdraw_post(tasks[0].staff, post.id, "x", connected.now())


def test_withdraw_before_push_sends_nothing(connected, fake, make_post):
    post, tasks = make_post(Channel.mass_message, staff_count=1)
    withdraw.withdraw_post(UserFactory(role=Role.reviewer), post.id, "撤回", connected.now())
    _commit()
    assert push.push(connected, DAY, _commit)["enqueued"] == 0
    assert fake.count("externalcontact/add_msg_template") == 0


def test_reminders_follow_wecom_limit_and_spacing(connected, fake, make_post, clock):
    post, (task,) = make_post(Channel.mass_message, staff_count=1)
    push.push(connected, DAY, _commit)
    assert reminders.remind_overdue(connected, 30, _commit) == 0  # not due yet (08:00)
    clock.advance(3 * 3600 + 60)  # 11:01: over 30 min past the 10:30 due time
    assert reminders.remind_overdue(connected, 30, _commit) == 1
    assert reminders.remind_overdue(connected, 30, _commit) == 0  # spacing: 2 hours
    for _ in range(4):
        clock.advance(2 * 3600)
        reminders.remind_overdue(connected, 30, _commit)
    reminded = list(_db.session.scalars(select(WeComReminder.reminded_at)))
    assert len(reminded) == 3  # WeCom: at most 3 per msgid within 24 hours
    assert fake.count("externalcontact/remind_groupmsg_send") == 3
    lines = withdraw.reminders_of(UserFactory(role=Role.editor), post.id)
    assert len(lines) == 3 and lines[0].staff_name == task.staff.display_name


def test_unreachable_wecom_stops_the_run_without_spending_attempts(connected, fake, make_post):
    make_post(Channel.mass_message, staff_count=3)
    fake.stop()
    summary = push.push(connected, DAY, _commit)
    assert summary["unreachable"] == 1 and summary["sent"] == 0
    rows = _pushes()
    assert all(r.attempts == 0 and not r.is_uncertain for r in rows)
    assert "unreachable" in rows[0].last_error
