"""Live compliance check while typing, review, and the audit log a manager reads (issue 10)."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import screenshot
from tests.browser.test_content_journeys import COMPLIANT_BODY, _create_template

pytestmark = pytest.mark.browser


def test_editor_sees_a_forbidden_phrase_while_typing_then_review_is_audited(live_server,
                                                                              login):
    base_url, app = live_server
    page = login("editor")
    template_id = _create_template(page, "bt-live-check", "浏览器测试·实时检查", COMPLIANT_BODY)
    status = page.locator("#live-status")
    expect(status).to_have_text("未发现合规问题")

    # Typing (not saving): the phrase is highlighted in place with its rule and citation.
    body = page.locator("textarea[name=body]")
    body.click()
    body.press("Control+End")
    body.press_sequentially("现在入场稳赚不赔！")
    mark = page.locator("#live-marked mark.finding-block", has_text="稳赚不赔")
    expect(mark).to_have_attribute("title", re.compile(r"\bINV-01\b"))
    expect(page.locator("#live-findings li.finding-block", has_text="INV-01")).to_contain_text(
        "依据：[AL]")
    expect(page.locator("details dl.legend")).to_contain_text("广告法")
    screenshot(page, "editor-live-check")

    # Fixed before saving: the highlight goes away; the body is saved and submitted.
    body.fill(COMPLIANT_BODY)
    expect(mark).to_have_count(0)
    expect(status).to_have_text("未发现合规问题")
    page.locator("form.submit-review button[type=submit]").click()
    expect(page.locator(".flash-success")).to_contain_text("已提交复核")

    reviewer = login("reviewer")
    reviewer.goto(f"{base_url}/content/{template_id}")
    reviewer.locator("#review-form").get_by_role("button", name="批准", exact=True).click()
    expect(reviewer.locator(".flash-success")).to_contain_text("已批准")

    manager = login("manager")
    manager.goto(f"{base_url}/audit/?object_type=template&object_id={template_id}")
    rows = manager.locator("#audit-events tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("批准模板")
    expect(rows.nth(1)).to_contain_text("提交复核")
    expect(rows.nth(2)).to_contain_text("创建模板")
    screenshot(manager, "manager-audit-log")
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "chain intact" in result.output
