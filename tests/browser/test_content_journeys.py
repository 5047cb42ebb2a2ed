"""Real-browser journeys of the middle office: write a template, review it, plan an SOP.

The journeys build on each other in file order (the editor's template is the one the
reviewer approves and the SOP plan uses). Each later journey falls back to a template
prepared through the services when it runs alone (``pytest -k``).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.content import services as content
from app.content.models import ContentTemplate, TemplateStatus
from app.core.extensions import db
from app.org.models import User
from tests.browser.helpers import screenshot, wait_image_loaded
from tests.market.helpers import csv_rows, published_days

pytestmark = pytest.mark.browser

PREVIEW_DATE = "2025-04-25"
EARLIER_DATE = "2025-04-24"
TITLE = "浏览器测试·上证早报"
BLOCKING_BODY = (
    "【上证早报】上证指数收报 {{ market.SSE.close|num }} 点，现在入场稳赚不赔！\n\n"
    "—— {{ staff.branch }} {{ staff.name }}"
)
COMPLIANT_BODY = (
    "【上证早报】{{ date|cn_date }}\n"
    "上证指数收报 {{ market.SSE.close|num }} 点（{{ market.SSE.as_of }} 收盘）。\n"
    "数据来源：{{ market.SSE.source }}，截至 {{ market.SSE.as_of }}。\n"
    "以上为市场信息整理，不构成投资建议。市场有风险，投资须谨慎。\n\n"
    "—— {{ staff.branch }} {{ staff.name }}"
)


@pytest.fixture(scope="module")
def journey() -> dict:
    """State handed from one journey to the next (template id)."""
    return {}


def _user_id(username: str) -> int:
    return db.session.scalar(select(User.id).where(User.username == username))


def _template_status(app, template_id: int) -> TemplateStatus:
    with app.app_context():
        return db.session.get(ContentTemplate, template_id).status


def _prepare(app, slug: str, approve: bool) -> int:
    """A compliant template by ``editor``, in review (or approved by ``reviewer``)."""
    with app.app_context():
        editor = _user_id("editor")
        template = content.create_template(editor, slug, f"{TITLE}（{slug}）", "general",
                                           "moments_post", "global_indices", COMPLIANT_BODY)
        content.submit_for_review(template.id, editor)
        if approve:
            content.approve(template.id, _user_id("reviewer"))
        db.session.commit()
        return template.id


@pytest.fixture
def template_in_review(live_server, journey) -> int:
    """The editor journey's template if it ran, else one prepared through the services."""
    if "template_id" not in journey:
        journey["template_id"] = _prepare(live_server[1], "bt-sse-review", approve=False)
    return journey["template_id"]


@pytest.fixture
def approved_template(live_server, journey) -> tuple[int, str]:
    """``(id, title)`` of the template the reviewer approved (prepared if needed)."""
    app = live_server[1]
    if journey.get("approved") is None:
        journey["approved"] = _prepare(app, "bt-sse-approved", approve=True)
    with app.app_context():
        return journey["approved"], db.session.get(ContentTemplate, journey["approved"]).title


def _bodies(app, template_id: int) -> list[str]:
    with app.app_context():
        return [v.body for v in db.session.get(ContentTemplate, template_id).versions]


def _sse_published(run_date: str) -> tuple[str, float]:
    """(ISO date, CSV close) of the last SSE bar published by 08:00 on ``run_date``.

    The SSE bar dated D is published at 15:00 on D, so the morning of D quotes D-1
    (or the last trading day before it).
    """
    day = published_days("SSE", dt.date.fromisoformat(run_date))[-1]
    return day.isoformat(), float(csv_rows("SSE")[day]["Close"])


def _nav(page, label: str) -> None:
    page.locator("header nav a", has_text=label).click()
    page.wait_for_load_state()


def _create_template(page, slug: str, title: str, body: str) -> int:
    """Fill 内容模板 → 新建模板 and submit; returns the new template id (from the edit URL)."""
    _nav(page, "内容模板")
    page.get_by_role("link", name="新建模板").click()
    page.fill("input[name=slug]", slug)
    page.fill("input[name=title]", title)
    page.select_option("select[name=product]", "general")
    page.select_option("select[name=channel]", "moments_post")
    page.select_option("select[name=chart_spec]", "global_indices")
    page.fill("textarea[name=body]", body)
    page.get_by_role("button", name="创建并检查合规").click()
    page.wait_for_url(re.compile(r"/content/\d+/edit$"))
    expect(page.locator(".flash-success")).to_contain_text(f"已创建模板「{title}」")
    return int(re.search(r"/content/(\d+)/edit$", page.url).group(1))


def test_editor_fixes_a_blocking_phrase_previews_with_market_data_and_submits(
    live_server, login, journey
):
    app = live_server[1]
    page = login("editor")
    template_id = _create_template(page, "bt-sse-morning", TITLE, BLOCKING_BODY)

    # Version 1: the blocking phrase is highlighted with its rule and submit is refused.
    mark = page.locator("pre.marked mark.finding-block", has_text="稳赚不赔")
    expect(mark).to_have_attribute("title", re.compile(r"\bINV-01\b"))
    expect(page.locator("table.findings tr", has=page.locator("code", has_text="INV-01"))
           .locator("td.sev-block")).to_have_text("阻断")
    submit = page.locator("form.submit-review button[type=submit]")
    expect(submit).to_be_disabled()
    expect(page.locator("form.submit-review .error")).to_contain_text("存在阻断性合规问题")
    screenshot(page, "editor-blocked")
    # Bypassing the disabled button: the server refuses too.
    submit.evaluate("button => { button.disabled = false; }")
    submit.click()
    expect(page.locator(".flash-error")).to_contain_text("存在阻断性合规问题")
    assert _template_status(app, template_id) is TemplateStatus.draft

    # Version 2: compliant body with market figures, source, as-of date and risk warning.
    page.goto(f"/content/{template_id}/edit")
    page.fill("textarea[name=body]", COMPLIANT_BODY)
    page.get_by_role("button", name="保存为新版本").click()
    expect(page.locator(".flash-success")).to_contain_text("已保存第 2 版：阻断 0 项")
    expect(page.locator("mark.finding-block")).to_have_count(0)
    expect(page.locator("form.submit-review button[type=submit]")).to_be_enabled()
    # Saving again unchanged: the browser's CRLF line breaks do not make a new version.
    page.get_by_role("button", name="保存为新版本").click()
    expect(page.locator(".flash")).to_have_text("正文没有改动，仍为第 2 版")
    assert _bodies(app, template_id) == [BLOCKING_BODY, COMPLIANT_BODY]

    # Preview for the demo date: the real SSE close from the snapshot, and the chart.
    page.locator("nav.subnav a", has_text="预览").click()
    rendered = page.locator(".phone-preview pre.post-text")
    for day in (EARLIER_DATE, PREVIEW_DATE):  # the date picker switches the market data
        page.fill("input[name=date]", day)
        page.get_by_role("button", name="按此日期预览").click()
        page.wait_for_url(re.compile(rf"/content/{template_id}/preview\?date={day}$"))
        as_of, close = _sse_published(day)
        expect(rendered).to_contain_text(f"上证指数收报 {close:,.2f} 点（{as_of} 收盘）")
    as_of, close = _sse_published(PREVIEW_DATE)
    assert as_of < PREVIEW_DATE  # the 08:30 post cannot quote the close of 15:00 that day
    expect(rendered).to_contain_text(f"上证指数收报 {close:,.2f} 点（{as_of} 收盘）")
    expect(rendered).to_contain_text(f"截至 {as_of}")
    expect(rendered).to_contain_text("市场有风险，投资须谨慎")
    assert "{{" not in rendered.inner_text()
    chart = page.locator(".phone-preview img.post-chart")
    expect(chart).to_have_attribute("src", re.compile(rf"/charts/{PREVIEW_DATE}/global_indices"))
    assert wait_image_loaded(page, chart) > 0
    expect(page.get_by_text("未发现合规问题")).to_be_visible()
    screenshot(page, "editor-preview")

    # Submit for review; the author sees no approve action on the own template.
    page.locator("nav.subnav a", has_text="详情与复核").click()
    page.locator("form.submit-review button[type=submit]").click()
    expect(page.locator(".flash-success")).to_contain_text("已提交复核")
    expect(page.locator("p.muted .badge-in_review")).to_have_text("待复核")
    expect(page.get_by_text("等待合规复核人员审批。")).to_be_visible()
    expect(page.locator("#review-form")).to_have_count(0)
    expect(page.get_by_role("button", name="批准", exact=True)).to_have_count(0)
    screenshot(page, "editor-submitted")
    assert _template_status(app, template_id) is TemplateStatus.in_review
    journey["template_id"] = template_id


def test_reviewer_approves_and_the_author_cannot(live_server, login, journey, template_in_review):
    base_url, app = live_server
    template_id = template_in_review

    # The author (an editor) has no approve action, and a forged POST is forbidden.
    editor = login("editor")
    editor.goto(f"/content/{template_id}")
    expect(editor.get_by_role("button", name="批准", exact=True)).to_have_count(0)
    token = editor.locator("form.submit-review input[name=csrf_token], "
                           "header input[name=csrf_token]").first.get_attribute("value")
    forged = editor.request.post(f"{base_url}/content/{template_id}/approve",
                                 form={"csrf_token": token, "comment": ""})
    assert forged.status == 403
    assert _template_status(app, template_id) is TemplateStatus.in_review

    # A reviewer finds it under 待复核 and approves it (four-eyes).
    page = login("reviewer")
    _nav(page, "内容模板")
    page.locator("p.muted a", has_text="待复核").click()
    with app.app_context():
        title = db.session.get(ContentTemplate, template_id).title
    page.get_by_role("link", name=title, exact=True).click()
    page.wait_for_url(f"{base_url}/content/{template_id}")
    expect(page.locator("ul.blockers")).to_have_count(0)
    page.fill("#review-form textarea[name=comment]", "数据来源与风险提示齐全，同意发布")
    page.locator("#review-form").get_by_role("button", name="批准", exact=True).click()
    expect(page.locator(".flash-success")).to_contain_text("已批准")
    expect(page.locator("p.muted .badge-approved")).to_have_text("已批准")
    expect(page.locator("p.approval")).to_contain_text("李复核：批准")
    expect(page.locator("p.approval")).to_contain_text("同意发布")
    expect(page.locator("#review-form")).to_have_count(0)
    screenshot(page, "reviewer-approved")
    assert _template_status(app, template_id) is TemplateStatus.approved
    journey["approved"] = template_id


def test_admin_is_not_a_reviewer(live_server, login):
    """An admin may write and submit a template, but approving is for reviewers only."""
    app = live_server[1]
    page = login("admin")
    template_id = _create_template(page, "bt-admin-own", "浏览器测试·管理员自写", COMPLIANT_BODY)
    page.locator("form.submit-review button[type=submit]").click()
    page.wait_for_url(re.compile(rf"/content/{template_id}$"))
    expect(page.locator(".flash-success")).to_contain_text("已提交复核")

    expect(page.locator("#review-form")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("等待合规复核人员审批")
    screenshot(page, "admin-own-template")
    # Forging the approve POST (with a valid CSRF token): the server refuses it.
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    response = page.request.post(f"{live_server[0]}/content/{template_id}/approve",
                                 form={"csrf_token": token})
    assert response.status == 403
    assert "合规复核" in response.text()
    assert _template_status(app, template_id) is TemplateStatus.in_review


def test_editor_plans_an_sop_with_the_approved_template(login, approved_template):
    _, title = approved_template
    page = login("editor")
    _nav(page, "SOP 计划")
    options = page.locator("select[name=template_id] option").all_inner_texts()
    assert title in options
    assert "浏览器测试·管理员自写" not in options  # only approved templates can be planned

    page.get_by_role("button", name="创建计划").click()  # empty: messages in Chinese
    expect(page.locator("p.error").first).to_be_visible()
    assert "This field" not in page.locator("main").inner_text()

    name = "浏览器测试·上证早报（杭州）"
    page.fill("input[name=name]", name)
    page.select_option("select[name=template_id]", label=title)
    page.select_option("select[name=branch_ids]", label="杭州分行")
    page.fill("input[name=send_time]", "08:45")
    page.get_by_role("button", name="创建计划").click()
    expect(page.locator(".flash-success")).to_contain_text(f"已创建 SOP 计划「{name}」")
    row = page.locator("#sop-plans tbody tr", has_text=name)
    expect(row).to_have_count(1)
    cells = row.locator("td")
    expect(cells.nth(1)).to_have_text(title)
    expect(cells.nth(3)).to_have_text("杭州分行")
    expect(cells.nth(4)).to_contain_text("08:45")
    expect(cells.nth(6)).to_have_text("运行中")
    screenshot(page, "editor-sop-plan")
