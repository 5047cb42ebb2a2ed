"""Real-browser journey (issue 6.8): an admin creates a front-line user, who logs in with the
initial password, must change it, and then sees 今日任务.

Runs against the live demo server (``live_server`` in conftest.py) with CSRF on.
"""

from __future__ import annotations

import pytest

from tests.browser.helpers import screenshot

pytestmark = pytest.mark.browser

NEW_PASSWORD = "Xihu-Branch-2025"


def test_admin_creates_a_frontline_user_who_must_change_the_initial_password(
        live_server, browser, login):
    base_url, _app = live_server
    admin = login("admin")
    admin.click("nav >> text=用户管理")
    admin.wait_for_url(f"{base_url}/admin/users")
    admin.click("text=新建用户")
    admin.fill("input[name=username]", "rm_browser")
    admin.fill("input[name=display_name]", "周新人")
    admin.select_option("select[name=role]", "frontline")
    branch = admin.locator("select[name=branch_id] option", has_text="杭州西湖支行")
    admin.select_option("select[name=branch_id]", branch.get_attribute("value"))
    admin.fill("input[name=wecom_userid]", "ZhouXinRen")
    admin.click("main button.primary")
    initial = admin.locator("#initial-password").inner_text().strip()
    assert admin.locator("#created-username").inner_text() == "rm_browser"
    screenshot(admin, "admin-user-created")

    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN",
                                  base_url=base_url)
    try:
        page = context.new_page()
        page.goto("/login")
        page.fill("input[name=username]", "rm_browser")
        page.fill("input[name=password]", initial)
        page.click("main button.primary")
        page.wait_for_url(f"{base_url}/account/password")
        assert "请先设置自己的新密码" in page.content()
        page.goto("/today")  # every other page sends the user back
        page.wait_for_url(f"{base_url}/account/password")

        page.fill("input[name=current_password]", initial)
        page.fill("input[name=new_password]", "short")
        page.fill("input[name=confirm_password]", "short")
        page.click("main button.primary")
        assert "密码至少需要" in page.locator(".error").first.inner_text()

        page.fill("input[name=current_password]", initial)
        page.fill("input[name=new_password]", NEW_PASSWORD)
        page.fill("input[name=confirm_password]", NEW_PASSWORD)
        page.click("main button.primary")
        page.wait_for_url(f"{base_url}/today")
        assert "今日任务" in page.locator("h1").first.inner_text()
        screenshot(page, "new-frontline-user-today")
    finally:
        context.close()

    admin.goto("/audit/")
    assert "创建用户" in admin.locator("table.audit").inner_text()


PHONE = {"width": 390, "height": 844}


@pytest.mark.parametrize("path", ["/admin/users", "/admin/users/new", "/admin/users/1",
                                  "/admin/branches", "/admin/branches/2", "/audit/",
                                  "/account/password"])
def test_admin_pages_fit_a_phone(login, path):
    page = login("admin", viewport=PHONE)
    page.goto(path)
    width = page.evaluate("document.documentElement.scrollWidth")
    screenshot(page, "admin-phone" + path.replace("/", "-"))
    assert width <= PHONE["width"], f"{path} is {width}px wide"
