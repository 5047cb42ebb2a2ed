"""Issue 9: an editor plans a weekly SOP for two branches with an end date, sees it in the
calendar, and a skipped run shows its reason in 日跟踪."""

import datetime as dt
import hashlib

import pytest
from playwright.sync_api import expect

from app.broadcasts import jobs
from app.broadcasts.models import SopPlan
from app.content.models import ContentTemplate, TemplateStatus, TemplateVersion
from app.core.extensions import db
from app.org.models import User
from tests.browser.helpers import screenshot

pytestmark = pytest.mark.browser

#: A template whose figure the market has no data for: its run is skipped with the reason.
MISSING_FIGURE = "【浏览器测试】{{ date }} {{ market.NOPE.close }} 市场有风险，投资须谨慎。"
TITLE = "浏览器测试·缺数据周报"
NAME = "浏览器测试·周五两分行"


def _approved_template(app) -> None:
    """An approved template the way the reviewer leaves one (the UI path is tested elsewhere)."""
    with app.app_context():
        editor = db.session.query(User).filter_by(username="editor").one()
        template = ContentTemplate(slug="bt-missing-figure", title=TITLE, product="general",
                                   content_kind="market_commentary", channel="moments_post",
                                   status=TemplateStatus.approved, author_id=editor.id)
        db.session.add(template)
        db.session.flush()
        version = TemplateVersion(template_id=template.id, number=1, body=MISSING_FIGURE,
                                  body_sha256=hashlib.sha256(MISSING_FIGURE.encode()).hexdigest(),
                                  author_id=editor.id)
        db.session.add(version)
        db.session.flush()
        template.approved_version_id = version.id
        db.session.commit()


def _scheduler_ticks_on_friday_morning(app) -> None:
    """The plan existed before the demo date; the scheduler ticks at Fri 2025-04-25 09:30:30."""
    with app.app_context():
        plan = db.session.query(SopPlan).filter_by(name=NAME).one()
        plan.created_at = dt.datetime(2025, 4, 1, tzinfo=dt.UTC)
        db.session.commit()
        jobs.tick("browser-test", dt.datetime(2025, 4, 25, 1, 30, 30, tzinfo=dt.UTC))
        db.session.remove()


def test_editor_plans_a_weekly_sop_for_two_branches_and_reads_the_skip_reason(live_server,
                                                                            login):
    base_url, app = live_server
    _approved_template(app)
    page = login("editor")
    page.goto(f"{base_url}/plans")
    page.fill("input[name=name]", NAME)
    page.select_option("select[name=template_id]", label=TITLE)
    page.select_option("select[name=branch_ids]", label=["杭州分行", "宁波分行"])
    page.fill("input[name=send_time]", "09:30")
    page.fill("input[name=schedule]", "weekly:FRI@09:30")
    page.fill("input[name=end_date]", "2025-05-16")
    page.get_by_role("button", name="创建计划").click()
    expect(page.locator(".flash-success")).to_contain_text(f"已创建 SOP 计划「{NAME}」")
    row = page.locator("#sop-plans tbody tr", has_text=NAME)
    expect(row).to_contain_text("杭州分行、宁波分行")
    expect(row).to_contain_text("weekly:FRI@09:30")

    # The calendar (demo date Fri 2025-04-25, three weeks ahead): every Friday to the end date.
    page.goto(f"{base_url}/plans/calendar")
    rows = page.locator("#plan-calendar tbody tr", has_text=NAME)
    expect(rows).to_have_count(3)  # 04-25, 05-02, 05-09 (05-16 lies beyond the three weeks)
    for n, day in enumerate(("2025-04-25", "2025-05-02", "2025-05-09")):
        expect(rows.nth(n)).to_have_attribute("data-date", day)
        expect(rows.nth(n)).to_contain_text("杭州分行、宁波分行")
        expect(rows.nth(n)).to_contain_text("朋友圈")
        expect(rows.nth(n)).to_contain_text("计划中")
    screenshot(page, "editor-plan-calendar")

    _scheduler_ticks_on_friday_morning(app)
    page.goto(f"{base_url}/tracking?date=2025-04-25")
    run = page.locator("#plan-runs tbody tr", has_text=NAME)
    expect(run).to_contain_text("已跳过")
    expect(run).to_contain_text("market.NOPE")
    expect(run.get_by_role("button", name="重新运行")).to_be_visible()
    screenshot(page, "editor-tracking-skipped-run")
    page.goto(f"{base_url}/plans/calendar")
    friday = page.locator("#plan-calendar tbody tr[data-date='2025-04-25']", has_text=NAME)
    expect(friday).to_contain_text("已跳过")
    expect(friday).to_contain_text("第 1 版")
