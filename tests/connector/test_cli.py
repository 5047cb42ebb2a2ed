"""``flask wecom push|pull|sync-contacts`` print JSON summaries; manual mode refuses."""

from __future__ import annotations

import json

from sqlalchemy import select

from app.connector.models import WeComContactEvent
from app.content.models import Channel
from app.core.extensions import db as _db
from app.customers.models import WecomContact
from tests.connector.conftest import DAY


def _json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_push_then_pull_commands(runner, connected, fake, make_post, clock):
    post, (task,) = make_post(Channel.mass_message, staff_count=1)
    pushed = _json(runner.invoke(args=["wecom", "push", "--date", DAY.isoformat()]))
    assert pushed["enqueued"] == 1 and pushed["sent"] == 1 and pushed["reminded"] == 0
    clock.advance(60)
    (msgid,) = fake.msgs
    fake.staff_sends(msgid)
    pulled = _json(runner.invoke(args=["wecom", "pull", "--from", DAY.isoformat(),
                                       "--to", DAY.isoformat()]))
    assert pulled["mass_sent"] == 1 and pulled["reach"] == 3
    assert pulled["staff"] == 1 and pulled["staff_days"] == 1


def test_sync_contacts_stores_each_customer_once(runner, connected, fake, make_post):
    make_post(Channel.mass_message, staff_count=2, customers=3)
    fake.add_staff("not-in-zhongtai", customers=2)
    first = _json(runner.invoke(args=["wecom", "sync-contacts"]))
    assert first["members"] == 2 and first["members_unknown"] == 1
    assert first["contacts"] == 6 and first["contacts_new"] == 6
    again = _json(runner.invoke(args=["wecom", "sync-contacts"]))
    assert again["contacts_new"] == 0
    assert len(_db.session.scalars(select(WeComContactEvent)).all()) == 6
    assert len(_db.session.scalars(select(WecomContact)).all()) == 6  # applied to customers


def test_commands_refuse_in_manual_mode(runner, app, monkeypatch):
    monkeypatch.setitem(app.config, "WECOM_CORP_ID", None)
    result = runner.invoke(args=["wecom", "push"])
    assert result.exit_code != 0 and "manual mode" in result.output


def test_pull_rejects_a_reversed_range(runner, connected):
    result = runner.invoke(args=["wecom", "pull", "--from", "2025-04-25", "--to", "2025-04-24"])
    assert result.exit_code != 0 and "--to" in result.output
