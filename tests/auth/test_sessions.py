"""Issue 6.7, sessions: logout and a password change revoke the session; idle sessions expire.

The attack: copy the session cookie (shared PC, proxy log, malware) and replay it after
the owner logged out. Before, the copy still opened /today. Now the user's
``session_version`` is part of the session and rises on logout and password change.
"""

from __future__ import annotations

import datetime as dt

import time_machine
from flask import g

from app.auth.loaders import load_user
from tests.factories import PASSWORD, UserFactory

NEW_PASSWORD = "Neues-Passwort-2025"


def _logged_in_client(app, user):
    client = app.test_client()
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def _copy(app, client):
    """A second client holding a copy of ``client``'s session cookie (the attacker)."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def _opens_today(client) -> bool:
    """Whether ``client``'s cookie opens 今日任务.

    The ``db`` fixture keeps one app context for the whole test, so Flask-Login's
    per-request cache of the user on ``g`` is dropped first (as a new request would).
    """
    g.pop("_login_user", None)
    response = client.get("/today")
    if response.status_code == 302:
        assert response.headers["Location"].startswith("/login")
        return False
    assert response.status_code == 200
    return True


def test_a_copied_cookie_stops_working_after_logout(app, db):
    user = UserFactory(role="frontline")
    owner = _logged_in_client(app, user)
    thief = _copy(app, owner)
    assert _opens_today(thief)
    assert owner.post("/logout").status_code == 302
    assert not _opens_today(thief)
    assert not _opens_today(owner)


def test_a_copied_cookie_stops_working_after_a_password_change(app, db):
    user = UserFactory(role="frontline")
    owner = _logged_in_client(app, user)
    thief = _copy(app, owner)
    assert _opens_today(thief)
    response = owner.post("/account/password", data={
        "current_password": PASSWORD, "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD})
    assert response.status_code == 302
    assert _opens_today(owner)  # the browser that changed it stays signed in
    assert not _opens_today(thief)


def test_an_idle_session_expires(app, db):
    start = dt.datetime(2025, 4, 25, 1, 0, tzinfo=dt.UTC)
    assert app.config["SESSION_IDLE_MINUTES"] == 30
    with time_machine.travel(start, tick=False) as clock:
        user = UserFactory(role="frontline")
        client = _logged_in_client(app, user)
        clock.move_to(start + dt.timedelta(minutes=29))
        assert _opens_today(client)  # activity slides the idle timeout
        clock.move_to(start + dt.timedelta(minutes=58))
        assert _opens_today(client)
        clock.move_to(start + dt.timedelta(minutes=58 + 31))
        assert not _opens_today(client)


def test_the_session_cookie_carries_the_idle_lifetime(app, db):
    user = UserFactory(role="frontline")
    response = app.test_client().post("/login", data={"username": user.username,
                                                      "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "Expires=" in cookie and "HttpOnly" in cookie


def test_the_loader_checks_the_session_version(db):
    user = UserFactory()
    assert user.get_id() == f"{user.id}:0"
    assert load_user(f"{user.id}:0") is user
    assert load_user(str(user.id)) is user  # a bare id is version 0
    user.session_version = 1
    assert load_user(f"{user.id}:0") is None
    assert load_user(str(user.id)) is None
    assert load_user(f"{user.id}:1") is user
    assert load_user("garbage") is None
    user.is_active_account = False
    assert load_user(f"{user.id}:1") is None
