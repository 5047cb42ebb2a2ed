"""The fake server's own rules (section 10 of the shared WeCom page) and its demo simulation."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from app.wecom import api
from app.wecom.errors import InvalidRequest, MediaExpired, NotReadyYet
from app.wecom.fake.simulation import simulate_once


def test_field_limits_are_enforced(fake, wecom):
    fake.add_staff("rm1", customers=1)
    with pytest.raises(InvalidRequest):
        api.add_msg_template(wecom, sender="rm1", text="字" * 1400)  # 4200 bytes
    with pytest.raises(InvalidRequest) as raised:
        api.add_moment_task(wecom, senders=["rm1"], text="x" * 2001)
    assert raised.value.code == 40058
    with pytest.raises(InvalidRequest):
        api.get_user_behavior_data(wecom, "rm1", 1_745_539_200 - 40 * 86400, 1_745_539_200)
    with pytest.raises(InvalidRequest):
        list(api.batch_get_by_user(wecom, [f"u{i}" for i in range(101)]))


def test_a_mass_message_takes_at_most_10000_customers(fake, wecom):
    customers = fake.add_staff("rm1", customers=api.EXTERNAL_USERIDS_MAX + 1)
    with pytest.raises(InvalidRequest) as raised:
        api.add_msg_template(wecom, sender="rm1", text="早报", external_userids=customers)
    assert raised.value.code == 40058 and fake.msgs == {}
    sent = api.add_msg_template(wecom, sender="rm1", text="早报",
                                external_userids=customers[:api.EXTERNAL_USERIDS_MAX])
    assert sent["fail_list"] == []
    assert len(fake.msgs[sent["msgid"]]["sends"]) == api.EXTERNAL_USERIDS_MAX


def test_media_kinds_and_expiry(fake, wecom, clock):
    fake.add_staff("rm1", customers=1)
    upload = api.upload_media(wecom, b"\x89PNG" + b"0" * 64, "c.png")
    attachment = api.upload_media(wecom, b"\x89PNG" + b"0" * 64, "c.png", attachment=True)
    with pytest.raises(MediaExpired):  # a mass-message id in a Moments post
        api.add_moment_task(wecom, senders=["rm1"], text="t", image_media_ids=[upload])
    api.add_moment_task(wecom, senders=["rm1"], text="t", image_media_ids=[attachment])
    clock.advance(3 * 86400)
    with pytest.raises(MediaExpired):
        api.add_msg_template(wecom, sender="rm1", text="t", image_media_id=upload)


def test_errmsg_varies_and_missing_token_is_41001(fake):
    first = httpx.get(fake.base_url + "externalcontact/get_follow_user_list").json()
    second = httpx.get(fake.base_url + "externalcontact/get_follow_user_list").json()
    assert first["errcode"] == second["errcode"] == 41001
    assert first["errmsg"] != second["errmsg"]


def test_moment_job_states_and_reactions_shapes(fake, wecom):
    customers = fake.add_staff("rm1", customers=2)
    jobid = api.add_moment_task(wecom, senders=["rm1", "ghost"], text="黄金早报")
    assert [api.get_moment_task_result(wecom, jobid)["status"] for _ in range(3)] == [1, 2, 3]
    result = api.get_moment_task_result(wecom, jobid)["result"]
    assert result["invalid_sender_list"]["user_list"] == ["ghost"]
    moment_id = result["moment_id"]
    assert list(api.get_moment_task(wecom, moment_id)) == [{"userid": "rm1",
                                                            "publish_status": 0}]
    with pytest.raises(InvalidRequest):  # 41062: not published yet
        list(wecom.paginate("externalcontact/get_moment_send_result",
                            {"moment_id": moment_id, "userid": "rm1"}, "customer_list"))
    fake.staff_publishes(moment_id, "rm1")
    fake.customer_reacts(moment_id, "rm1", customers[0], "comment")
    fake.colleague_reacts(moment_id, "rm1", "rm2")
    reactions = api.get_moment_comments(wecom, moment_id, "rm1")
    assert reactions == {"likes": [], "comments": [
        {"external_userid": customers[0], "create_time": int(fake.clock())}]}


def test_behaviour_shape_omits_reply_fields_without_chats(fake, wecom):
    fake.add_staff("rm1")
    day = dt.date(2025, 4, 24)
    fake.set_behavior("rm1", day, chat_cnt=2, reply_percentage=50.0, avg_reply_time=3)
    start = int(dt.datetime(2025, 4, 23, tzinfo=dt.timezone(dt.timedelta(hours=8))).timestamp())
    rows = api.get_user_behavior_data(wecom, "rm1", start, start + 86400)
    assert "reply_percentage" not in rows[0] and rows[1]["reply_percentage"] == 50.0


def test_simulated_staff_send_some_messages_after_dispatch(fake, wecom, clock):
    for n in range(20):
        fake.add_staff(f"rm{n}", customers=2)
        api.add_msg_template(wecom, sender=f"rm{n}", text="早报")
    assert simulate_once(fake)["mass_sent"] == 0  # too fresh
    clock.advance(60)
    sent = simulate_once(fake)["mass_sent"]
    assert 5 <= sent <= 19
    with pytest.raises(NotReadyYet):
        fake.dispatch_seconds = 10_000
        list(api.get_groupmsg_task(wecom, next(iter(fake.msgs))))
