"""Pull measured outcomes from the fake WeCom server; the scorecard shows what WeCom reported."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.broadcasts.models import TaskStatus
from app.connector import behavior, pull, push
from app.connector.models import PushState, WeComOutcome, WeComPush, WeComStaffDay
from app.content.models import Channel
from app.core.extensions import db as _db
from app.metrics.queries import Scope, scorecard_rows
from tests.connector.conftest import DAY, DUE
from tests.factories import InteractionEventFactory


def _commit():
    _db.session.commit()


def _msgid(task):
    (msgid,) = _db.session.scalar(select(WeComPush).where(WeComPush.task_id == task.id)).msgids
    return msgid


def _moment_id(task):
    return _db.session.scalar(select(WeComPush.moment_id).where(WeComPush.task_id == task.id))


def test_mass_message_results_appear_after_dispatch_and_staff_send(connected, fake, make_post,
                                                                   clock):
    post, (on_time, late, unsent) = make_post(Channel.mass_message, staff_count=3, customers=4)
    push.push(connected, DAY, _commit)
    first = pull.pull(connected, DAY, DAY, _commit)
    assert first["mass_not_ready"] == 3  # 41063: WeCom still dispatching
    clock.advance(60)
    customers = [c["external_userid"] for c in fake.staff[on_time.staff.wecom_userid]]
    fake.staff_sends(_msgid(on_time), at=DUE.timestamp() - 600,
                     failed={customers[0]: 2, customers[1]: 3})
    fake.staff_sends(_msgid(late), at=DUE.timestamp() + 600)
    summary = pull.pull(connected, DAY, DAY, _commit)
    assert summary["mass_sent"] == 2 and summary["mass_unsent"] == 1
    assert summary["reach"] == 2 + 4
    for task in (on_time, late, unsent):
        _db.session.refresh(task)
    assert on_time.status is TaskStatus.done and on_time.reach_count == 2
    assert on_time.completed_at == DUE - dt.timedelta(minutes=10)
    assert late.completed_at == DUE + dt.timedelta(minutes=10) and late.reach_count == 4
    assert unsent.status is TaskStatus.assigned
    states = dict(_db.session.execute(select(WeComPush.task_id, WeComPush.state)).all())
    assert states[on_time.id] is PushState.confirmed and states[unsent.id] is PushState.sent
    again = pull.pull(connected, DAY, DAY, _commit)  # idempotent
    assert again["reach"] == summary["reach"]


def test_moments_likes_and_comments_per_customer_and_colleagues_left_out(connected, fake,
                                                                         make_post):
    post, (poster, idle) = make_post(Channel.moments_post, staff_count=2, customers=3)
    push.push(connected, DAY, _commit)
    moment_id, userid = _moment_id(poster), poster.staff.wecom_userid
    fake.staff_publishes(moment_id, userid)
    customers = [c["external_userid"] for c in fake.staff[userid]]
    fake.customer_reacts(moment_id, userid, customers[0], "like")
    fake.customer_reacts(moment_id, userid, customers[1], "like")
    fake.customer_reacts(moment_id, userid, customers[1], "comment")
    fake.colleague_reacts(moment_id, userid, idle.staff.wecom_userid)
    summary = pull.pull(connected, DAY, DAY, _commit)
    assert summary["moments_published"] == 1 and summary["moments_unpublished"] == 1
    assert summary["outcomes_new"] == 3
    outcomes = sorted((o.external_userid, o.kind.value, o.source) for o in
                      _db.session.scalars(select(WeComOutcome)))
    assert outcomes == sorted([(customers[0], "like", "wecom"), (customers[1], "like", "wecom"),
                               (customers[1], "comment", "wecom")])
    assert pull.pull(connected, DAY, DAY, _commit)["outcomes_new"] == 0


def test_day_scorecard_equals_what_wecom_reported(connected, fake, make_post, clock):
    """Every measured figure of the day's scorecard is the fake server's own number."""
    mass_post, mass_tasks = make_post(Channel.mass_message, staff_count=3, customers=5)
    moment_post, moment_tasks = make_post(Channel.moments_post, staff_count=2, customers=4)
    # A self-reported like on a task WeCom measures: the measured figure wins.
    InteractionEventFactory(task=moment_tasks[0], reporter=moment_tasks[0].staff)
    _commit()
    push.push(connected, DAY, _commit)
    clock.advance(60)
    first, second, _ = mass_tasks
    customers = [c["external_userid"] for c in fake.staff[first.staff.wecom_userid]]
    fake.staff_sends(_msgid(first), at=DUE.timestamp() - 60, failed={customers[0]: 2})
    fake.staff_sends(_msgid(second), at=DUE.timestamp() + 3600)
    moment_id = _moment_id(moment_tasks[0])
    for task in moment_tasks:
        userid = task.staff.wecom_userid
        fake.staff_publishes(moment_id, userid)
        viewers = [c["external_userid"] for c in fake.staff[userid]]
        fake.customer_reacts(moment_id, userid, viewers[0], "like")
        fake.customer_reacts(moment_id, userid, viewers[1], "comment")
    pull.pull(connected, DAY, DAY, _commit)

    sent = [m for m in fake.msgs.values() if m["task"]["status"] == 2]
    delivered = sum(1 for m in fake.msgs.values() for s in m["sends"].values()
                    if s["status"] == 1)
    on_time = sum(1 for m in sent if m["task"]["send_time"] <= DUE.timestamp())
    moment = fake.moments[moment_id]
    published = [u for u, flag in moment["published"].items() if flag]
    seen = sum(len(moment["customers"][u]) for u in published)
    likes = sum(len(v) for v in moment["likes"].values())
    comments = sum(len(v) for v in moment["comments"].values())

    (total,) = scorecard_rows(Scope(None, DAY, DAY), ("total",))["total"]
    assert total["tasks_assigned"] == 5
    assert total["tasks_done"] == len(sent) + len(published) == 4
    assert total["tasks_on_time"] == on_time + len(published) == 3  # published before due
    assert total["reach"] == delivered + seen == 4 + 5 + 8
    assert total["likes"] == likes == 2  # the reported like is replaced
    assert total["comments"] == comments == 2
    assert total["measured_tasks"] == 4


def test_staff_behaviour_becomes_process_measures(connected, fake, make_post):
    post, (task,) = make_post(Channel.mass_message, staff_count=1)
    userid = task.staff.wecom_userid
    fake.set_behavior(userid, DAY - dt.timedelta(days=1), chat_cnt=12, message_cnt=40,
                      reply_percentage=75.0, avg_reply_time=8, negative_feedback_cnt=1,
                      new_contact_cnt=3)
    summary = behavior.pull_behavior(connected, DAY - dt.timedelta(days=2),
                                     DAY - dt.timedelta(days=1), _commit)
    assert summary["staff_days"] == 2
    rows = {r.stat_date: r for r in _db.session.scalars(
        select(WeComStaffDay).where(WeComStaffDay.staff_id == task.staff_id))}
    busy, quiet = rows[DAY - dt.timedelta(days=1)], rows[DAY - dt.timedelta(days=2)]
    assert (busy.chats, busy.messages, busy.reply_rate, busy.avg_reply_minutes,
            busy.negative_feedback, busy.new_contacts) == (12, 40, 0.75, 8, 1, 3)
    assert quiet.chats == 0 and quiet.reply_rate is None and quiet.avg_reply_minutes is None
    behavior.pull_behavior(connected, DAY - dt.timedelta(days=2), DAY - dt.timedelta(days=1),
                           _commit)
    assert _db.session.scalar(select(WeComStaffDay.id).where(
        WeComStaffDay.staff_id == task.staff_id).order_by(WeComStaffDay.id.desc())) == max(
        r.id for r in rows.values())  # upserted, not duplicated


def test_scorecard_page_shows_measured_communication(connected, fake, make_post, client,
                                                     login_as):
    post, (task,) = make_post(Channel.mass_message, staff_count=1)
    fake.set_behavior(task.staff.wecom_userid, DAY - dt.timedelta(days=1), chat_cnt=5,
                      message_cnt=9, reply_percentage=80.0, avg_reply_time=12)
    behavior.pull_behavior(connected, DAY - dt.timedelta(days=1), DAY - dt.timedelta(days=1),
                           _commit)
    login_as("editor")
    html = client.get("/metrics/scorecard?period=weekly&end=2025-04-25").get_data(as_text=True)
    assert "前台·客户沟通（企业微信实测）" in html
    row = html[html.index(task.staff.display_name, html.index("scorecard-behavior")):]
    assert "80.0%" in row[:600] and ">12<" in row[:600]
