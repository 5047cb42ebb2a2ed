"""Shared fixtures of the real-browser journeys.

One HTTP server (werkzeug, in a thread) on 127.0.0.1 with its own SQLite database,
migrated and seeded by the same commands a newcomer runs (``demo seed --days 2``; the
demo password is then re-hashed at the suite's low scrypt cost), and one headless Debian
chromium driven by Playwright, both for the whole session. CSRF protection is ON, as in
production. Each demo user signs in through the login form once per session; later
contexts of that user reuse the session cookie.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import update
from werkzeug.security import generate_password_hash
from werkzeug.serving import make_server

from app import create_app
from app.core.extensions import db
from app.org.models import User
from config import TestConfig
from tests.browser.helpers import DEMO_DATE
from tests.factories import TEST_HASH_METHOD

CHROMIUM = "/usr/bin/chromium"


def pytest_runtest_setup(item):
    """Skip the browser journeys without chromium, except under CI where they must run."""
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is required in CI (apt-get install chromium)", pytrace=False)
    pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """``(base_url, app)`` of a running server over a freshly seeded demo database."""
    base = tmp_path_factory.mktemp("browser")
    app = create_app(
        TestConfig(),
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{base / 'browser.sqlite3'}",
        CHART_OUTPUT_DIR=str(base / "charts"),
        BUSINESS_DATE=DEMO_DATE,
        DEMO_DATE=DEMO_DATE,
        WTF_CSRF_ENABLED=True,
    )
    with app.app_context():
        upgrade()
    result = app.test_cli_runner().invoke(args=["demo", "seed", "--days", "2"])
    assert result.exit_code == 0, result.output
    with app.app_context():  # the same password, hashed at the factories' low scrypt cost
        db.session.execute(update(User).values(password_hash=generate_password_hash(
            app.config["DEMO_PASSWORD"], TEST_HASH_METHOD)))
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", app
    server.shutdown()
    thread.join(timeout=10)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    """One headless chromium for the session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"],
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def signed_in(live_server, browser):
    """Demo username → Playwright storage state (cookies) of its first form login."""
    return {}


@pytest.fixture
def login(live_server, browser, signed_in):
    """Open a fresh browser context logged in as a demo user; returns its page.

    ``login("editor")`` signs in through the login form (CSRF token included) the first
    time in the session; later contexts of the same user start with that login's session
    cookie and open ``/``. Either way the page ends on the role's start page. Contexts are
    closed after the test.
    """
    base_url, app = live_server
    contexts = []

    def _login(username: str, viewport: dict | None = None):
        context = browser.new_context(viewport=viewport or {"width": 1280, "height": 900},
                                      locale="zh-CN", base_url=base_url,
                                      storage_state=signed_in.get(username))
        contexts.append(context)
        page = context.new_page()
        if username in signed_in:
            page.goto("/")  # the role's start page, as after the form login
            assert "/login" not in page.url, f"{username}'s saved session was refused"
            return page
        page.goto("/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", app.config["DEMO_PASSWORD"])
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/login" not in url)
        signed_in[username] = context.storage_state()
        return page

    yield _login
    for context in contexts:
        context.close()

