"""Login rate limit (``RATELIMIT_LOGIN`` = "10 per minute" per client address)."""

from __future__ import annotations

import pytest

from app.core.extensions import limiter
from tests.factories import PASSWORD, UserFactory


@pytest.fixture
def limited_app(make_app):
    """An app with Flask-Limiter on (the test config turns it off).

    ``limiter`` is one module-level object whose ``init_app`` sets ``enabled`` and its
    storage on itself, so its state is restored afterwards: other tests must not inherit it.
    """
    saved = dict(vars(limiter))
    try:
        yield make_app(WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=True,
                       RATELIMIT_STORAGE_URI="memory://", RATELIMIT_LOGIN="10 per minute")
    finally:
        vars(limiter).clear()
        vars(limiter).update(saved)


def test_eleventh_login_post_in_a_minute_gets_429_in_chinese(limited_app, db):
    username = UserFactory().username
    db.session.commit()
    client = limited_app.test_client()
    for attempt in range(10):
        response = client.post("/login", data={"username": username, "password": "wrong"})
        assert response.status_code == 200, attempt
    blocked = client.post("/login", data={"username": username, "password": PASSWORD})
    assert blocked.status_code == 429
    page = blocked.get_data(as_text=True)
    assert "操作过于频繁，请稍后再试" in page and 'lang="zh-CN"' in page
    assert "per 1 minute" not in page
    assert client.get("/login").status_code == 200  # only POSTs count


def test_successful_logins_do_not_use_up_the_limit(limited_app, db):
    username = UserFactory().username
    db.session.commit()
    client = limited_app.test_client()
    for attempt in range(12):
        response = client.post("/login", data={"username": username, "password": PASSWORD})
        assert response.status_code == 302, attempt
        client.post("/logout")


def test_limiter_state_is_restored_for_other_tests(app, client, db):
    """Runs after the test above in file order: the shared app is not rate limited."""
    assert limiter.enabled is False
    for _ in range(12):
        response = client.post("/login", data={"username": "nobody", "password": "x"})
        assert response.status_code == 200
