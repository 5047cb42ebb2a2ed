"""Issue 6.7, per account: failed logins lock that account, not the branch behind one NAT.

The attack: guess one RM's password from the branch's address. Before, 10 failures a minute
per address locked the whole branch (correct passwords included) and never the account.
Now 5 failures within 15 minutes lock that account for 15 minutes, shown in Beijing time;
colleagues on the same address keep logging in.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from sqlalchemy import select

from app.auth.models import LoginThrottle
from tests.factories import PASSWORD, UserFactory

#: 10:00 in Beijing.
START = dt.datetime(2025, 4, 25, 2, 0, tzinfo=dt.UTC)
LOCKED = "登录失败次数过多，该账户已暂时锁定"
WRONG = "用户名或密码错误"


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def _login(client, username, password):
    return client.post("/login", data={"username": username, "password": password})


def _text(response) -> str:
    return response.get_data(as_text=True)


def test_five_failures_lock_the_account_even_for_the_right_password(client, db, clock):
    victim, colleague = UserFactory(), UserFactory()
    for attempt in range(4):
        response = _login(client, victim.username, f"guess-{attempt}")
        assert response.status_code == 200 and WRONG in _text(response)
    fifth = _login(client, victim.username, "guess-5")
    assert LOCKED in _text(fifth) and "北京时间 2025-04-25 10:15" in _text(fifth)

    sixth = _login(client, victim.username, PASSWORD)  # the real password, still refused
    assert sixth.status_code == 200
    assert LOCKED in _text(sixth) and "请于北京时间 2025-04-25 10:15 后再试" in _text(sixth)
    assert client.get("/").status_code == 302  # not logged in

    # Same client address, another account: not affected.
    assert _login(client, colleague.username, PASSWORD).headers["Location"] == "/"


def test_the_lock_ends_after_lock_minutes(client, db, clock):
    victim = UserFactory()
    for attempt in range(5):
        _login(client, victim.username, f"guess-{attempt}")
    clock.move_to(START + dt.timedelta(minutes=14, seconds=59))
    assert LOCKED in _text(_login(client, victim.username, PASSWORD))
    clock.move_to(START + dt.timedelta(minutes=15, seconds=1))
    assert _login(client, victim.username, PASSWORD).status_code == 302
    assert db.session.scalar(select(LoginThrottle).where(
        LoginThrottle.username == victim.username)) is None  # a good login forgets failures


def test_failures_spread_beyond_the_window_do_not_lock(client, db, clock):
    victim = UserFactory()
    for attempt in range(4):
        _login(client, victim.username, f"guess-{attempt}")
    clock.move_to(START + dt.timedelta(minutes=16))
    for attempt in range(4):
        assert WRONG in _text(_login(client, victim.username, f"late-{attempt}"))
    assert _login(client, victim.username, PASSWORD).status_code == 302


def test_a_good_login_resets_the_count(client, db, clock):
    victim = UserFactory()
    for attempt in range(4):
        _login(client, victim.username, f"guess-{attempt}")
    assert _login(client, victim.username, PASSWORD).status_code == 302
    client.post("/logout")
    for attempt in range(4):
        assert WRONG in _text(_login(client, victim.username, f"again-{attempt}"))
    assert _login(client, victim.username, PASSWORD).status_code == 302


def test_unknown_usernames_answer_exactly_like_real_ones(client, db, clock):
    """The lock does not reveal whether an account exists: same text at every attempt."""
    real = UserFactory().username
    for attempt in range(7):
        known = _text(_login(client, real, f"guess-{attempt}"))
        unknown = _text(_login(client, "no-such-user", f"guess-{attempt}"))
        assert known == unknown.replace("no-such-user", real), attempt  # the echoed name
    assert LOCKED in known


def test_the_count_lives_in_the_database_not_in_a_worker(client, db, clock):
    victim = UserFactory()
    for attempt in range(3):
        _login(client, victim.username, f"guess-{attempt}")
    row = db.session.scalar(select(LoginThrottle).where(LoginThrottle.username == victim.username))
    assert row.failure_count == 3 and row.locked_until is None
    assert row.window_started_at == START


def test_limits_come_from_the_configuration(app, client, db, clock, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES", 2)
    monkeypatch.setitem(app.config, "LOGIN_LOCK_MINUTES", 60)
    victim = UserFactory()
    _login(client, victim.username, "guess-1")
    response = _login(client, victim.username, "guess-2")
    assert "北京时间 2025-04-25 11:00" in _text(response)
