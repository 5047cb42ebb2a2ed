"""The client against the fake server over HTTP: token, back-off, errors, paging, logs."""

from __future__ import annotations

import logging
import threading

import pytest

from app.wecom import api
from app.wecom.errors import (
    ConfigError,
    InvalidRequest,
    NoRelationship,
    NotReadyYet,
    RateLimited,
    RemindLimitReached,
    TaskCancelled,
    TokenRejected,
    UnknownCustomer,
)
from app.wecom.tokens import DatabaseTokenStore


def test_token_is_fetched_once_and_shared_between_clients(fake, wecom, make_client):
    fake.add_staff("rm1", customers=2)
    assert len(api.list_external_contacts(wecom, "rm1")) == 2
    assert api.get_follow_user_list(wecom) == ["rm1"]
    other = make_client()  # another process: same database, new client
    assert api.get_follow_user_list(other) == ["rm1"]
    assert fake.gettoken_calls == 1


def test_concurrent_first_calls_fetch_one_token(fake, make_client, token_engine):
    fake.add_staff("rm1")
    clients = [make_client(token_store=DatabaseTokenStore(token_engine)) for _ in range(6)]
    barrier, errors = threading.Barrier(len(clients)), []

    def first_call(client):
        barrier.wait()
        try:
            api.get_follow_user_list(client)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=first_call, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert fake.gettoken_calls == 1


def test_token_expiring_mid_run_is_refreshed_and_the_call_retried_once(fake, make_client,
                                                                       clock):
    fake.add_staff("rm1", customers=1)
    frozen = clock()
    wecom = make_client(clock=lambda: frozen)  # the client still believes its token valid
    api.get_follow_user_list(wecom)
    clock.advance(fake.token_ttl + 1)  # WeCom: the token expired (42001)
    assert api.get_follow_user_list(wecom) == ["rm1"]
    assert fake.gettoken_calls == 2
    assert fake.count("externalcontact/get_follow_user_list") == 3  # ok, 42001, retry


def test_revoked_token_is_replaced(fake, wecom):
    fake.add_staff("rm1")
    api.get_follow_user_list(wecom)
    fake.revoke_tokens()
    assert api.get_follow_user_list(wecom) == ["rm1"]
    assert fake.gettoken_calls == 2


def test_token_rejected_twice_is_raised_not_looped(fake, wecom):
    fake.add_staff("rm1")
    api.get_follow_user_list(wecom)
    fake.fail_next("externalcontact/get_follow_user_list", 40014, times=2)
    with pytest.raises(TokenRejected):
        api.get_follow_user_list(wecom)
    assert fake.count("externalcontact/get_follow_user_list") == 3


def test_wrong_secret_is_a_config_error_without_retry(fake, make_client, sleeps):
    wecom = make_client(secret="wrong")
    with pytest.raises(ConfigError) as raised:
        api.get_follow_user_list(wecom)
    assert raised.value.code == 40001
    assert fake.gettoken_calls == 1 and sleeps == []


def test_backs_off_on_45009_with_growing_waits(fake, wecom, sleeps):
    fake.add_staff("rm1")
    fake.fail_next("externalcontact/get_follow_user_list", 45009, times=3)
    assert api.get_follow_user_list(wecom) == ["rm1"]
    assert len(sleeps) == 3
    assert sleeps[0] >= wecom.backoff_seconds
    assert sleeps[1] > sleeps[0] - wecom.backoff_seconds  # exponential, plus jitter
    assert sleeps[2] >= 4 * wecom.backoff_seconds


@pytest.mark.parametrize("code", [-1, 45033])
def test_backs_off_on_busy_and_concurrency(fake, wecom, sleeps, code):
    fake.add_staff("rm1")
    fake.fail_next("externalcontact/get_follow_user_list", code)
    assert api.get_follow_user_list(wecom) == ["rm1"]
    assert len(sleeps) == 1


def test_frequency_limit_gives_up_after_max_attempts(fake, make_client, sleeps):
    fake.set_limit("externalcontact/get_follow_user_list", 1, 3600)
    wecom = make_client(max_attempts=3)
    api.get_follow_user_list(wecom)
    with pytest.raises(RateLimited):
        api.get_follow_user_list(wecom)
    assert len(sleeps) == 2
    assert fake.count("externalcontact/get_follow_user_list") == 4


def test_typed_errors(fake, wecom):
    fake.add_staff("rm1")  # no customers
    with pytest.raises(UnknownCustomer):
        wecom.call("GET", "externalcontact/get", params={"external_userid": "nobody"})
    with pytest.raises(NoRelationship):
        wecom.call("GET", "externalcontact/list", params={"userid": "rm1"})
    assert api.list_external_contacts(wecom, "rm1") == []
    with pytest.raises(InvalidRequest):
        wecom.call("POST", "externalcontact/batch/get_by_user", json={"userid_list": []})
    with pytest.raises(InvalidRequest):  # GET on a POST endpoint
        wecom.call("GET", "externalcontact/add_msg_template")


def test_mass_message_async_states_remind_limit_and_cancel(fake, wecom, clock):
    customers = fake.add_staff("rm1", customers=3)
    sent = api.add_msg_template(wecom, sender="rm1", text="早报",
                                external_userids=[*customers, "wm-unknown"])
    assert sent["fail_list"] == ["wm-unknown"]
    with pytest.raises(NotReadyYet):
        list(api.get_groupmsg_task(wecom, sent["msgid"]))
    clock.advance(10)
    assert list(api.get_groupmsg_task(wecom, sent["msgid"])) == [{"userid": "rm1", "status": 0}]
    for _ in range(3):
        api.remind_groupmsg_send(wecom, sent["msgid"])
    with pytest.raises(RemindLimitReached):
        api.remind_groupmsg_send(wecom, sent["msgid"])
    api.cancel_groupmsg_send(wecom, sent["msgid"])
    with pytest.raises(TaskCancelled):
        api.remind_groupmsg_send(wecom, sent["msgid"])


def test_cursor_pagination_follows_every_page(fake, wecom):
    fake.add_staff("rm1", customers=7)
    fake.add_staff("rm2", customers=5)
    pages = []
    original = fake.batch_get_by_user

    def counting(body):
        pages.append(body.get("cursor"))
        return original({**body, "limit": 5})

    fake.batch_get_by_user = counting
    rows = list(api.batch_get_by_user(wecom, ["rm1", "rm2"]))
    assert len(rows) == 12 and len({r["external_contact"]["external_userid"] for r in rows}) == 12
    assert len(pages) == 3 and pages[0] == "" and all(pages[1:])


def test_logs_carry_neither_secret_nor_token(fake, wecom, caplog):
    caplog.set_level(logging.DEBUG)
    fake.add_staff("rm1", customers=1)
    api.get_follow_user_list(wecom)
    fake.revoke_tokens()
    api.get_follow_user_list(wecom)
    token = wecom.access_token()
    assert "get_follow_user_list" in caplog.text
    assert fake.secret not in caplog.text
    assert token not in caplog.text
    assert fake.secret not in repr(wecom)
