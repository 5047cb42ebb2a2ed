"""Real-browser journey of wordings 措辞 (issue 9): two wordings, checked one by one.

The editor creates a template, adds a second wording with 「添加措辞」, sees the findings of
each wording on its own (the second blocks submission), rewrites it and submits; a
reviewer sees both wordings and approves the version (four-eyes). Then the editor plans it
weekly with an end date and sees it in 计划日历; its run goes out, and two relationship
managers of one sub-branch find different wordings in 今日任务.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from app.broadcasts.models import SopPlan
from app.broadcasts.run_day import run_day
from app.content.models import ContentTemplate, TemplateStatus
from app.core.extensions import db
from app.org.models import Role, User
from tests.browser.helpers import screenshot

pytestmark = pytest.mark.browser

TITLE = "浏览器测试·两种措辞的早报"
PLAN = "两种措辞早报计划"
FIRST = (
    "【上证早报】{{ date|cn_date }}\n"
    "上证指数收报 {{ market.SSE.close|num }} 点（{{ market.SSE.as_of }} 收盘）。\n"
    "数据来源：{{ market.SSE.source }}，截至 {{ market.SSE.as_of }}。\n"
    "以上为市场信息整理，不构成投资建议。市场有风险，投资须谨慎。\n\n"
    "—— {{ staff.branch }} {{ staff.name }}"
)
BLOCKING_SECOND = (
    "【早安】上证指数 {{ market.SSE.close|num }} 点，现在入场稳赚不赔！\n"
    "—— {{ staff.name }}"
)
SECOND = (
    "【早安·上证】{{ date|cn_date }}\n"
    "上证指数 {{ market.SSE.close|num }} 点（{{ market.SSE.as_of }} 收盘，"
    "数据来源：{{ market.SSE.source }}）。\n"
    "仅为市场信息整理，不构成投资建议。市场有风险，投资须谨慎。\n"
    "—— {{ staff.name }}（{{ staff.branch }}）"
)


def _template(app, template_id: int) -> tuple[TemplateStatus, list[str]]:
    with app.app_context():
        template = db.session.get(ContentTemplate, template_id)
        return template.status, template.latest_version.bodies


@pytest.fixture(scope="module")
def journey() -> dict:
    """State handed to the next journey (the approved template's id)."""
    return {}


def test_editor_writes_two_wordings_and_a_reviewer_approves_them(live_server, login, journey):
    base_url, app = live_server
    page = login("editor")
    page.goto("/content/new")
    page.fill("input[name=slug]", "bt-two-wordings")
    page.fill("input[name=title]", TITLE)
    page.select_option("select[name=product]", "general")
    page.select_option("select[name=channel]", "mass_message")
    page.fill("textarea[name=body]", FIRST)
    page.get_by_role("button", name="添加措辞").click()
    expect(page.locator(".flash")).to_contain_text("已添加措辞 2")
    expect(page.locator("textarea[name=body]")).to_have_value(FIRST)  # nothing typed is lost
    page.fill("textarea[name=variants-0]", BLOCKING_SECOND)
    page.get_by_role("button", name="创建并检查合规").click()
    page.wait_for_url(re.compile(r"/content/\d+/edit$"))
    template_id = int(re.search(r"/content/(\d+)/edit$", page.url).group(1))

    # Each wording has its own findings: the first is clean, the second blocks.
    first, second = page.locator("#wording-0"), page.locator("#wording-1")
    expect(first).to_contain_text("未发现合规问题")
    expect(first.locator("mark.finding-block")).to_have_count(0)
    expect(second.locator("pre.marked mark.finding-block", has_text="稳赚不赔")).to_have_attribute(
        "title", re.compile(r"\bINV-01\b"))
    expect(second.locator("h3")).to_contain_text("措辞 2")
    expect(page.locator("form.submit-review button[type=submit]")).to_be_disabled()
    screenshot(page, "variants-blocked")

    # The second wording rewritten: both pass and the version goes to review.
    page.fill("textarea[name=variants-0]", SECOND)
    page.get_by_role("button", name="保存为新版本").click()
    expect(page.locator(".flash-success")).to_contain_text("已保存第 2 版：阻断 0 项")
    expect(page.locator("mark.finding-block")).to_have_count(0)
    assert _template(app, template_id)[1] == [FIRST, SECOND]
    page.locator("form.submit-review button[type=submit]").click()
    expect(page.locator(".flash-success")).to_contain_text("已提交复核")

    # The reviewer reads both wordings and approves.
    reviewer = login("reviewer")
    reviewer.goto(f"/content/{template_id}")
    expect(reviewer.locator("h2", has_text="2 种措辞")).to_be_visible()
    expect(reviewer.locator("#wording-0 pre.marked")).to_contain_text("【上证早报】")
    expect(reviewer.locator("#wording-1 pre.marked")).to_contain_text("【早安·上证】")
    expect(reviewer.locator("ul.blockers")).to_have_count(0)
    reviewer.fill("#review-form textarea[name=comment]", "两种措辞均合规，同意")
    reviewer.locator("#review-form").get_by_role("button", name="批准", exact=True).click()
    expect(reviewer.locator(".flash-success")).to_contain_text("已批准")
    screenshot(reviewer, "variants-approved")
    assert _template(app, template_id) == (TemplateStatus.approved, [FIRST, SECOND])
    journey["template_id"] = template_id


def test_editor_plans_the_two_wordings_weekly_and_two_managers_receive_different_ones(
        live_server, login, journey):
    if "template_id" not in journey:
        pytest.skip("needs the approval journey above")
    base_url, app = live_server
    with app.app_context():
        rm001, rm002 = (db.session.scalar(select(User).where(User.username == name))
                        for name in ("rm001", "rm002"))
        assert rm001.branch_id == rm002.branch_id
        sub_branch = rm001.branch.name
        staff = db.session.scalar(select(func.count()).select_from(User).where(
            User.branch_id == rm001.branch_id, User.role == Role.frontline,
            User.is_active_account.is_(True)))  # earlier journeys may have added one
    # The editor plans it weekly on Fridays with an end date (demo date: Fri 2025-04-25).
    editor = login("editor")
    editor.goto(f"{base_url}/plans")
    editor.fill("input[name=name]", PLAN)
    editor.select_option("select[name=template_id]", label=TITLE)
    editor.select_option("select[name=branch_ids]", label=[sub_branch])
    editor.fill("input[name=send_time]", "09:00")
    editor.fill("input[name=schedule]", "weekly:FRI@09:00")
    editor.fill("input[name=end_date]", "2025-05-02")
    editor.get_by_role("button", name="创建计划").click()
    expect(editor.locator(".flash-success")).to_contain_text(f"已创建 SOP 计划「{PLAN}」")
    editor.goto(f"{base_url}/plans/calendar")
    rows = editor.locator("#plan-calendar tbody tr", has_text=PLAN)
    expect(rows).to_have_count(2)  # Fridays 04-25 and 05-02, then the end date
    expect(rows.nth(0)).to_have_attribute("data-date", "2025-04-25")
    expect(rows.nth(1)).to_have_attribute("data-date", "2025-05-02")
    screenshot(editor, "variants-plan-calendar")
    with app.app_context():
        plan_id = db.session.scalar(select(SopPlan.id).where(SopPlan.name == PLAN))
        result = run_day(dt.date(2025, 4, 25), [plan_id], refresh_market=False)
        db.session.commit()
        assert result.posts_skipped == [] and result.tasks_created == staff >= 2
    seen = []
    for username in ("rm001", "rm002"):
        page = login(username, viewport={"width": 390, "height": 844})
        card = page.locator(".task-card", has_text=PLAN)
        expect(card).to_have_count(1)
        text = card.locator(".post-text").inner_text()
        seen.append("【上证早报】" in text)
        assert ("【上证早报】" in text) != ("【早安·上证】" in text)
        screenshot(page, f"variants-today-{username}")
    assert sorted(seen) == [False, True]  # one gets each wording
