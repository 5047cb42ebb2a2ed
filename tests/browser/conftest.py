"""Shared fixtures of the real-browser journeys.

One HTTP server (werkzeug, in a thread) on 127.0.0.1 with its own SQLite database,
migrated and seeded by the same commands a newcomer runs (``demo seed --days 2``; the
demo password is then re-hashed at the suite's low scrypt cost), and one Debian
chromium-headless-shell driven by Playwright, both for the whole session. CSRF protection
is ON, as in production. Each demo user signs in through the login form once per session, in a
browser context and page kept for that user; a later test gets that page back with the
cookies reset to those of the login, reopened on the role's start page.
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

from app.core.extensions import db
from app.factory import create_app
from app.org.models import User
from config import TestConfig
from tests.browser.helpers import DEMO_DATE, browser_group
from tests.factories import TEST_HASH_METHOD

#: Debian's chromium-headless-shell: the same Chromium build without the desktop browser
#: around it (Playwright's own default for headless runs). The full ``chromium`` in headless
#: mode spent about 2.5x the CPU on the same journeys (21 s against 8 s) on two cores.
CHROMIUM = "/usr/bin/chromium-headless-shell"


def pytest_runtest_setup(item):
    """Skip the browser journeys without chromium, except under CI where they must run.

    Under ``--dist loadgroup`` a journey must carry its group (``@browser``): its
    later steps need the state its earlier ones left on the same worker's server.
    """
    if getattr(item.config.option, "loadgroup", False) and not item.nodeid.endswith(
            "@" + browser_group(item)):
        pytest.fail("xdist did not group this browser journey (see pyproject's pytest pin)",
                    pytrace=False)
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is required in CI (apt-get install chromium-headless-shell)",
                    pytrace=False)
    pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium-headless-shell)")


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
    server = make_server("127.0.0.1", 0, _closed_when_sent(app.wsgi_app), threaded=True)
    # a short poll interval: shutdown() waits for the loop's next poll (default 0.5 s)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", app
    server.shutdown()
    thread.join(timeout=10)
    with app.app_context():
        db.engine.dispose()


def _closed_when_sent(wsgi_app):
    """``wsgi_app`` whose response is closed as soon as its last chunk is handed over.

    werkzeug's development server closes a response only after draining the request
    socket, and skips the close when that drain fails because chromium already dropped
    the connection (a favicon request cut short by the next navigation): the static
    file is then left to the garbage collector, whose ``ResourceWarning`` fails whichever
    test runs at that moment. Production serves through gunicorn, which does not do this.
    """
    def app(environ, start_response):
        response = wsgi_app(environ, start_response)
        try:
            yield from response
        finally:
            if hasattr(response, "close"):
                response.close()
    return app


@pytest.fixture(scope="session")
def browser():
    """One headless chromium (the headless shell) for the session."""
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
def user_pages(live_server, browser):
    """Demo username → (its page, the cookies right after its form login), kept open."""
    pages: dict[str, tuple] = {}
    yield pages
    for page, _ in pages.values():
        page.context.close()


@pytest.fixture
def login(live_server, browser, user_pages):
    """The page of a demo user, logged in and on the role's start page.

    ``login("editor")`` signs in through the login form (CSRF token included) the first
    time in the session, in a browser context and page kept for that user. Later tests
    get that page with the cookies reset to those right after the form login, reopening
    ``/``. ``viewport`` (default 1280×900) is set each time.
    """
    base_url, app = live_server

    def _login(username: str, viewport: dict | None = None):
        if username in user_pages:
            page, cookies = user_pages[username]
            page.context.clear_cookies()
            page.context.add_cookies(cookies)
            page.set_viewport_size(viewport or {"width": 1280, "height": 900})
            page.goto("/")  # the role's start page, as after the form login
            assert "/login" not in page.url, f"{username}'s saved session was refused"
            return page
        page = browser.new_context(locale="zh-CN", base_url=base_url).new_page()
        page.set_viewport_size(viewport or {"width": 1280, "height": 900})
        page.goto("/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", app.config["DEMO_PASSWORD"])
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/login" not in url)
        user_pages[username] = (page, page.context.cookies())
        return page

    return _login

