"""Real-browser journey: a front-line user logs in, sees today's post and its chart, adds a
personal note, copies the text with it and marks it done.

Drives Debian's chromium-headless-shell through Playwright against a real
HTTP server on 127.0.0.1 with its own SQLite database, migrated and seeded by
the same commands a newcomer runs (fixtures ``live_server`` and ``browser`` in
conftest.py).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import ARTIFACTS

pytestmark = pytest.mark.browser

NOTE = "有疑问欢迎随时联系我。"


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

    # a personal note 附言: checked, then part of the text that is copied
    card = page.locator(".task").first
    card.locator("details.note-box summary").click()
    card.locator("textarea[name=note]").fill(NOTE)
    card.locator("details.note-box button[type=submit]").click()
    card = page.locator(".task").first
    expect(card).to_contain_text("附言已保存")  # waits for the page after the save
    post_text = card.locator(".post-text").inner_text()
    assert post_text.rstrip().endswith(NOTE) and "上证指数" in post_text

    page.locator("button.copy").first.click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.strip() == post_text.strip()

    page.locator("form.complete button[type=submit]").first.click()
    expect(page.locator(".task").first.locator(".badge-done")).to_have_text("已完成")
    context.close()


def test_anonymous_user_is_sent_to_login(live_server, browser):
    base_url, _ = live_server
    page = browser.new_page()
    page.goto(f"{base_url}/today")
    assert page.url.startswith(f"{base_url}/login")
    page.close()


