"""``/wecom/callback``: WeCom's signed, encrypted calls, sent by the fake's callback driver."""

from __future__ import annotations

import base64
import os
import time

import httpx
import pytest
from sqlalchemy import func, select

from app.connector.models import OutcomeKind, WeComContactEvent, WeComOutcome
from app.content.models import Channel
from app.core.extensions import db as _db
from app.customers.models import WecomContact
from app.org.models import Role
from app.wecom.fake import CallbackDriver
from tests.factories import UserFactory

CORP_ID = "wwcallbackcorp"
TOKEN = "callback-token"
AES_KEY = base64.b64encode(os.urandom(32)).decode().rstrip("=")


@pytest.fixture
def driver(app, db, monkeypatch):
    for key, value in {"WECOM_CORP_ID": CORP_ID, "WECOM_CALLBACK_TOKEN": TOKEN,
                       "WECOM_CALLBACK_AES_KEY": AES_KEY}.items():
        monkeypatch.setitem(app.config, key, value)
    http = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://zhongtai")
    yield CallbackDriver("http://zhongtai/wecom/callback", token=TOKEN, aes_key=AES_KEY,
                         corp_id=CORP_ID, http=http)
    http.close()


@pytest.fixture
def staff(db):
    user = UserFactory(role=Role.frontline, wecom_userid="rm-cb-1")
    db.session.commit()
    return user


def _events() -> int:
    return _db.session.scalar(select(func.count(WeComContactEvent.id)))


def test_url_verification_answers_the_decrypted_echo(driver):
    assert driver.verify_url("echo-123") == (200, "echo-123")


def test_add_event_is_stored_once_even_when_delivered_again(driver, staff):
    message = driver.event_xml("add_external_contact", "rm-cb-1", "wm-cust-1",
                               State="qr-branch-7", WelcomeCode="w1")
    first = driver.send(message)
    assert first.statuses == [200] and first.body == ""
    assert first.seconds[0] < 5.0
    duplicate = driver.send(message)
    assert duplicate.statuses == [200]
    (event,) = _db.session.scalars(select(WeComContactEvent)).all()
    assert (event.change_type, event.staff_id, event.external_userid, event.detail) == (
        "add_external_contact", staff.id, "wm-cust-1", "qr-branch-7")


@pytest.mark.parametrize("change_type", ["edit_external_contact", "del_external_contact",
                                         "del_follow_user", "transfer_fail"])
def test_every_contact_change_type_is_stored(driver, staff, change_type):
    assert driver.send(driver.event_xml(change_type, "rm-cb-1", "wm-cust-2")).status == 200
    assert _db.session.scalar(select(WeComContactEvent.change_type)) == change_type


def test_forged_signature_is_refused_and_changes_nothing(driver, staff):
    delivery = driver.send(driver.event_xml("add_external_contact", "rm-cb-1", "wm-x"),
                           forge=True, retry=False)
    assert delivery.statuses == [403]
    assert _events() == 0


def test_stale_timestamp_is_refused(driver, staff):
    stale = int(time.time()) - 3600
    delivery = driver.send(driver.event_xml("add_external_contact", "rm-cb-1", "wm-x"),
                           timestamp=stale, retry=False)
    assert delivery.statuses == [403]
    assert _events() == 0


def test_malformed_xml_is_refused(driver, staff):
    params = driver._signed("anything")
    assert driver.post_raw("<xml><Encrypt>", params, retry=False).statuses == [400]
    bomb = ('<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
            "<xml><Encrypt>&b;</Encrypt></xml>")
    assert driver.post_raw(bomb, params, retry=False).statuses == [400]
    inner_broken = driver.send("<xml><Event>change_external_contact", retry=False)
    assert inner_broken.statuses == [400]
    assert _events() == 0


def test_payload_for_another_corp_is_refused(driver, staff):
    other = CallbackDriver(driver.url, token=TOKEN, aes_key=AES_KEY, corp_id="wwother",
                           http=driver.http)
    delivery = other.send(other.event_xml("add_external_contact", "rm-cb-1", "wm-x"),
                          retry=False)
    assert delivery.statuses == [403]


def test_customer_deleting_the_staff_member_counts_as_a_measured_deletion(driver, staff,
                                                                          make_post):
    post, tasks = make_post(Channel.mass_message, staff_count=1)
    task = tasks[0]
    task.staff.wecom_userid = "rm-cb-2"
    _db.session.commit()
    created = int(time.mktime((2025, 4, 25, 12, 0, 0, 0, 0, -1)))
    message = driver.event_xml("del_follow_user", "rm-cb-2", "wm-gone", create_time=created)
    driver.send(message)
    driver.send(message)
    (outcome,) = _db.session.scalars(select(WeComOutcome)).all()
    assert (outcome.task_id, outcome.kind, outcome.external_userid) == (
        task.id, OutcomeKind.delete, "wm-gone")


def test_callback_is_not_found_without_configuration(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "WECOM_CALLBACK_TOKEN", None)
    assert client.get("/wecom/callback?timestamp=1&nonce=x&echostr=y").status_code == 404


def test_contact_events_update_the_customer_layers_contacts(driver, staff):
    added = int(time.time()) - 600
    driver.send(driver.event_xml("add_external_contact", "rm-cb-1", "wm-c9",
                                 create_time=added))
    driver.send(driver.event_xml("add_external_contact", "rm-cb-1", "wm-c9",
                                 create_time=added))  # WeCom retries
    (contact,) = _db.session.scalars(select(WecomContact)).all()
    assert (contact.staff_id, contact.external_userid, contact.removed_at) == (
        staff.id, "wm-c9", None)
    driver.send(driver.event_xml("del_follow_user", "rm-cb-1", "wm-c9"))
    _db.session.refresh(contact)
    assert contact.removed_at is not None
    assert all(e.applied_at for e in _db.session.scalars(select(WeComContactEvent)))


def test_unknown_member_is_stored_but_not_applied(driver, staff):
    driver.send(driver.event_xml("add_external_contact", "rm-unknown", "wm-c10"))
    (event,) = _db.session.scalars(select(WeComContactEvent)).all()
    assert event.staff_id is None and event.applied_at is None
    assert _db.session.scalars(select(WecomContact)).all() == []
