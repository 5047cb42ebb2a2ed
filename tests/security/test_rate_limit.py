"""Login rate limit per client address (``RATELIMIT_LOGIN``, default "100 per minute").

Issue 6.7: at 10 failures a minute per address, one RM mistyping behind a branch's NAT
locked the whole branch out, correct passwords included, with no ``Retry-After``. The
address limit is now high enough for a branch (guessing one account is stopped by the
per-account lock, ``tests/auth/test_login_throttle.py``), and a 429 says when to retry.
"""

from __future__ import annotations

import pytest

from app.core.extensions import limiter
from tests.factories import PASSWORD, UserFactory


@pytest.fixture
def limited_app(make_app):
    """``limited_app(**overrides)``: an app with Flask-Limiter on (the test config turns it off).

    ``limiter`` is one module-level object whose ``init_app`` sets ``enabled`` and its
    storage on itself, so its state is restored afterwards: other tests must not inherit it.
    """
    saved = dict(vars(limiter))

    def _make(**overrides):
        return make_app(WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=True,
                        RATELIMIT_STORAGE_URI="memory://", **overrides)

    try:
        yield _make
    finally:
        vars(limiter).clear()
        vars(limiter).update(saved)


def test_a_branch_behind_one_nat_keeps_logging_in(limited_app, db):
    """11 colleagues on one address each mistype once (the old limit was 10), then log in."""
    app = limited_app()
    assert app.config["RATELIMIT_LOGIN"] == "100 per minute"
    usernames = [UserFactory().username for _ in range(11)]
    db.session.commit()
    client = app.test_client()
    for username in usernames:
        assert client.post("/login", data={"username": username,
                                           "password": "typo"}).status_code == 200
    for username in usernames:
        response = client.post("/login", data={"username": username, "password": PASSWORD})
        assert response.status_code == 302, username
        client.post("/logout")


def test_over_the_limit_is_429_in_chinese_with_retry_after(limited_app, db):
    app = limited_app(RATELIMIT_LOGIN="3 per minute")
    username = UserFactory().username
    db.session.commit()
    client = app.test_client()
    for attempt in range(3):
        response = client.post("/login", data={"username": f"nobody{attempt}", "password": "x"})
        assert response.status_code == 200, attempt
    blocked = client.post("/login", data={"username": username, "password": PASSWORD})
    assert blocked.status_code == 429
    assert 0 < int(blocked.headers["Retry-After"]) <= 60
    page = blocked.get_data(as_text=True)
    assert "操作过于频繁，请稍后再试" in page and 'lang="zh-CN"' in page
    assert "per 1 minute" not in page
    assert client.get("/login").status_code == 200  # only POSTs count


def test_successful_logins_do_not_use_up_the_limit(limited_app, db):
    app = limited_app(RATELIMIT_LOGIN="10 per minute")
    username = UserFactory().username
    db.session.commit()
    client = app.test_client()
    for attempt in range(12):
        response = client.post("/login", data={"username": username, "password": PASSWORD})
        assert response.status_code == 302, attempt
        client.post("/logout")


def test_limiter_state_is_restored_for_other_tests(app, client, db):
    """Runs after the tests above in file order: the shared app is not rate limited."""
    assert limiter.enabled is False
    for attempt in range(12):
        response = client.post("/login", data={"username": f"nobody{attempt}", "password": "x"})
        assert response.status_code == 200
