"""Real-browser journey: a front-line user logs in, sees today's post and its chart, marks it done.

Drives Debian's chromium (/usr/bin/chromium) through Playwright against a real
HTTP server on 127.0.0.1 with its own SQLite database, migrated and seeded by
the same commands a newcomer runs.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from flask_migrate import upgrade
from werkzeug.serving import make_server

from app import create_app
from app.extensions import db
from config import TestConfig

CHROMIUM = "/usr/bin/chromium"
DEMO_DATE = "2025-04-25"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = pytest.mark.browser

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError(f"{CHROMIUM} is required in CI (apt-get install chromium)")
    pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
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
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", app
    server.shutdown()
    thread.join(timeout=10)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def browser():
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


def test_frontline_sees_todays_post_with_chart_and_marks_it_done(live_server, browser):
    base_url, app = live_server
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    page = context.new_page()
    page.goto(f"{base_url}/login")
    page.fill("input[name=username]", "rm001")
    page.fill("input[name=password]", app.config["DEMO_PASSWORD"])
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/today")

    assert "今日任务" in page.content()
    post_text = page.locator(".post-text").first.inner_text()
    assert "上证指数" in post_text
    image = page.locator("img.post-chart").first
    image.scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )
    assert image.evaluate("img => img.naturalWidth") >= 600

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "frontline-today.png"), full_page=True)

    page.locator("button.copy").first.click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.strip() == post_text.strip()

    page.locator("form.complete button[type=submit]").first.click()
    page.wait_for_load_state("networkidle")
    assert "已完成" in page.locator(".task").first.inner_text()
    context.close()


def test_anonymous_user_is_sent_to_login(live_server, browser):
    base_url, _ = live_server
    page = browser.new_page()
    page.goto(f"{base_url}/today")
    assert page.url.startswith(f"{base_url}/login")
    page.close()


