"""Issue 8: the push outbox retries earlier days' rows too, within limits, skipping withdrawals."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from app.connector import outbox, push, withdraw
from app.connector.models import PushAction, PushState, WeComPush
from app.connector.tasks import push_day
from app.content.models import Channel
from app.core.extensions import db as _db
from app.org.models import Role
from tests.connector.conftest import DAY
from tests.factories import UserFactory

PATH = "externalcontact/add_msg_template"
YESTERDAY = DAY - dt.timedelta(days=1)


def _commit():
    _db.session.commit()


def _post_on(make_post, run_date, staff_count=1):
    post, tasks = make_post(Channel.mass_message, staff_count=staff_count)
    post.run_date = run_date
    _db.session.commit()
    return post, tasks


def _row(task) -> WeComPush:
    return _db.session.scalar(select(WeComPush).where(
        WeComPush.task_id == task.id, WeComPush.action == PushAction.mass_message))


@pytest.fixture
def one_try(make_client, app, monkeypatch):
    """A client that calls WeCom once per attempt (no in-call retries)."""
    client = make_client(max_attempts=1)
    monkeypatch.setitem(app.extensions, "wecom.client", client)
    return client


def test_a_row_that_failed_yesterday_for_a_passing_reason_is_sent_today(
        connected, one_try, fake, make_post, clock):
    post, (task,) = _post_on(make_post, YESTERDAY)
    fake.fail_next(PATH, -1, times=outbox.MAX_ATTEMPTS)  # WeCom busy all of yesterday's tries
    for _ in range(outbox.MAX_ATTEMPTS):
        push.push(one_try, YESTERDAY, _commit, retry_days=2)
    row = _row(task)
    assert row.state is PushState.failed and row.attempts == outbox.MAX_ATTEMPTS
    assert row.next_attempt_at == row.attempted_at + outbox.RETRY_AFTER
    assert push.push(one_try, DAY, _commit, retry_days=2)["reopened"] == 0  # not yet due
    clock.advance(outbox.RETRY_AFTER.total_seconds() + 1)
    summary = push.push(one_try, DAY, _commit, retry_days=2)
    assert summary["reopened"] == 1 and summary["sent"] == 1
    _db.session.refresh(row)
    (msgid,) = row.msgids
    assert row.state is PushState.sent and msgid in fake.msgs
    assert fake.msgs[msgid]["sender"] == task.staff.wecom_userid
    assert row.attempts == outbox.MAX_ATTEMPTS + 1


def test_a_final_failure_and_a_withdrawn_post_are_not_retried(connected, one_try, fake,
                                                             make_post, clock):
    _, (unlinked,) = _post_on(make_post, YESTERDAY)
    unlinked.staff.wecom_userid = None  # refused for good: no WeCom userid
    withdrawn_post, (withdrawn,) = _post_on(make_post, YESTERDAY)
    _db.session.commit()
    fake.fail_next(PATH, -1, times=outbox.MAX_ATTEMPTS)
    for _ in range(outbox.MAX_ATTEMPTS):
        push.push(one_try, YESTERDAY, _commit, retry_days=2)
    assert _row(unlinked).state is PushState.failed and _row(unlinked).next_attempt_at is None
    assert _row(withdrawn).next_attempt_at is not None
    editor = UserFactory(role=Role.editor)
    withdraw.withdraw_post(editor, withdrawn_post.id, "数据有误", one_try.now())
    _db.session.commit()
    clock.advance(outbox.RETRY_AFTER.total_seconds() + 1)
    summary = push.push(one_try, DAY, _commit, retry_days=2)
    assert summary["reopened"] == 0 and summary["sent"] == 0
    assert fake.count(PATH) == outbox.MAX_ATTEMPTS  # nothing new reached WeCom
    assert _row(withdrawn).state is PushState.failed


def test_earlier_days_pending_rows_go_after_todays_and_bounded(
        connected, fake, make_post, monkeypatch):
    monkeypatch.setattr(push, "EARLIER_PER_RUN", 1)
    _, earlier = _post_on(make_post, YESTERDAY, staff_count=2)
    outbox.enqueue_pushes(YESTERDAY)  # yesterday's push run enqueued them, then stopped
    _commit()
    _, today = _post_on(make_post, DAY, staff_count=2)
    first = push.push(connected, DAY, _commit, retry_days=2)
    assert first["enqueued"] == 2 and first["sent"] == 2 + 1  # today's all, one earlier
    assert [_row(t).state for t in today] == [PushState.sent] * 2
    assert sorted(_row(t).state.value for t in earlier) == ["pending", "sent"]
    assert push.push(connected, DAY, _commit, retry_days=2)["sent"] == 1
    assert [_row(t).state for t in earlier] == [PushState.sent] * 2
    assert len(fake.msgs) == 4


def test_a_day_no_push_ran_for_is_not_sent_days_late(connected, fake, make_post):
    _, earlier = _post_on(make_post, YESTERDAY)
    summary = push.push(connected, DAY, _commit, retry_days=2)
    assert summary["enqueued"] == 0 and summary["sent"] == 0
    assert [_row(t) for t in earlier] == [None] and fake.msgs == {}


def test_rows_older_than_the_window_are_given_up(connected, fake, make_post):
    _, (old,) = _post_on(make_post, DAY - dt.timedelta(days=3))
    _, (recent,) = _post_on(make_post, DAY - dt.timedelta(days=2))
    for days in (3, 2):
        outbox.enqueue_pushes(DAY - dt.timedelta(days=days))
    _commit()
    summary = push.push(connected, DAY, _commit, retry_days=2)
    assert summary["given_up"] == 1 and summary["sent"] == 1
    assert _row(old).state is PushState.failed and "given up" in _row(old).last_error
    assert _row(recent).state is PushState.sent
    assert len(fake.msgs) == 1


def test_push_day_task_uses_the_configured_window(app, connected, fake, make_post,
                                                  monkeypatch):
    monkeypatch.setitem(app.config, "WECOM_PUSH_RETRY_DAYS", 1)
    for day in (YESTERDAY, DAY - dt.timedelta(days=2)):
        _post_on(make_post, day)
        outbox.enqueue_pushes(day)
    _commit()
    summary = push_day(DAY.isoformat())
    assert summary["enqueued"] == 0 and summary["sent"] == 1 and summary["given_up"] == 1
