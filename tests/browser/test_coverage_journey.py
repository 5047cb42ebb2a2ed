"""Real-browser journey: the 杭州分行 manager opens 客户覆盖率, drills down to an RM and reads
a flagged add with its evidence. Expected figures come from the services over the same data."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.core.extensions import db
from app.customers import services as customers
from app.org.models import User
from tests.browser.helpers import DEMO_DATE, screenshot, wait_image_loaded

pytestmark = pytest.mark.browser

END = dt.date.fromisoformat(DEMO_DATE)


def _expected(app):
    """The subtree's totals per segment, and one RM of it with a flagged add this month."""
    with app.app_context():
        manager = db.session.scalar(select(User).where(User.username == "manager"))
        overview = customers.coverage_overview(manager, None, END)
        for item in overview.staff:
            page = customers.staff_page(manager, item.row.key_id, END)
            flagged = [add for add in page.adds if add.flags]
            if flagged:
                add = flagged[0]
                return overview, item.row, (add.add_id, add.flags[0].label,
                                            list(add.flags[0].evidence[0].values()))
    raise AssertionError("the demo seed has no flagged add in 杭州分行")


def test_manager_drills_down_from_coverage_to_a_flagged_add(live_server, login):
    app = live_server[1]
    overview, rm, (add_id, flag_label, evidence) = _expected(app)
    page = login("manager")
    page.locator("header nav a", has_text="客户覆盖率").click()
    page.wait_for_url(re.compile(r"/customers/coverage"))
    expect(page.locator("#totals-title")).to_contain_text("杭州分行（含下级机构）")
    rows = page.locator("#coverage-totals tbody tr")
    expect(rows).to_have_count(len(overview.totals))
    first = overview.totals[0]
    expect(rows.first).to_contain_text(f"{first.customers}")
    expect(rows.first).to_contain_text(f"{first.coverage_rate * 100:.1f}%")
    assert wait_image_loaded(page, page.locator("#coverage-heatmap")) > 0
    assert wait_image_loaded(page, page.locator("#coverage-trend")) > 0  # 30 demo snapshots
    assert "宁波" not in page.locator("main").inner_text()
    screenshot(page, "manager-coverage")

    page.locator("#staff-coverage a", has_text=rm.name).first.click()
    page.wait_for_url(re.compile(r"/customers/staff/\d+"))
    expect(page.locator("h1")).to_contain_text(rm.name)
    flagged = page.locator(f"#add-{add_id}")
    expect(flagged).to_have_class(re.compile("flagged"))
    flagged.locator("summary", has_text=flag_label).click()
    evidence_table = flagged.locator("table.evidence")
    expect(evidence_table).to_be_visible()
    for value in evidence:
        expect(evidence_table).to_contain_text(value)
    screenshot(page, "manager-flagged-add")
