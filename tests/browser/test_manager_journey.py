"""Real-browser journey: the 杭州分行 manager reads the scorecard 考核看板 and switches periods.

The numbers on the page are compared with the scorecard service over the same database
(computed when the page is read, so journeys that ran before cannot skew them).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.core.extensions import db
from app.metrics import services as metrics
from app.metrics.tables import TABLES, display
from app.org.models import User
from tests.browser.helpers import DEMO_DATE, screenshot, wait_image_loaded

pytestmark = pytest.mark.browser

END = dt.date.fromisoformat(DEMO_DATE)
HZ_SUB_BRANCHES = {"杭州西湖支行", "杭州滨江支行"}


def _expected(app, start: dt.date) -> dict[str, list[tuple[str, ...]]]:
    """Each table's rows as the page should show them (cell texts), sorted for comparison."""
    with app.app_context():
        manager = db.session.scalar(select(User).where(User.username == "manager"))
        card = metrics.scorecard(manager, None, start, END)
    sources = {"branch": card.front_by_branch, "staff": card.front_by_staff,
               "template": card.middle_by_template, "sop": card.middle_by_sop}
    return {key: sorted(tuple(display(getattr(row, c.attr), c.kind).strip()
                              for c in TABLES[key].columns) for row in rows)
            for key, rows in sources.items()}


def _shown(page) -> dict[str, list[tuple[str, ...]]]:
    """Each table's body rows as cell texts, sorted (the page sorts by its own rules)."""
    tables = {}
    for key in TABLES:
        rows = page.locator(f"#table-{key} tbody tr")
        tables[key] = sorted(tuple(text.strip() for text in row.locator("td").all_inner_texts())
                             for row in rows.all())
    return tables


def _column(table: str, label: str) -> int:
    return [c.label for c in TABLES[table].columns].index(label)


def _check_period(page, app, start: dt.date) -> dict[str, list[tuple[str, ...]]]:
    """The scope line, every table and the chart for the range ``start`` .. END."""
    expect(page.locator("#scorecard-scope")).to_contain_text(
        f"杭州分行（含下级机构） · {start.isoformat()} 至 {END.isoformat()}")
    shown = _shown(page)
    assert shown == _expected(app, start)
    assert "宁波" not in page.locator("main").inner_text()
    assert wait_image_loaded(page, page.locator("#scorecard-chart")) > 0
    return shown


def test_manager_reads_both_sides_of_the_scorecard_and_switches_period(live_server, login):
    app = live_server[1]
    page = login("manager")
    page.wait_for_url(re.compile(r"/metrics/scorecard$"))  # the manager's start page
    page.locator("header nav a", has_text="考核看板").click()
    page.wait_for_url(re.compile(r"/metrics/scorecard$"))

    branches = page.locator("select[name=branch_id] option").all_inner_texts()
    assert {b.removeprefix("— ") for b in branches} >= {"杭州分行", *HZ_SUB_BRANCHES}
    assert "杭州分行" in branches  # the manager's own branch is the unindented top
    assert not any("宁波" in b for b in branches)
    expect(page.locator("select[name=period]")).to_have_value("weekly")

    # 周通报 (default): Monday .. the demo date.
    weekly = _check_period(page, app, END - dt.timedelta(days=END.weekday()))
    by_branch = {row[0]: row for row in weekly["branch"]}
    assigned = _column("branch", "下发任务数")
    assert HZ_SUB_BRANCHES <= set(by_branch)
    for name in HZ_SUB_BRANCHES:
        assert int(by_branch[name][assigned]) > 0
        assert by_branch[name][_column("branch", "执行率")].endswith("%")
    assert all(row[1].startswith("杭州") for row in weekly["staff"])  # 所属机构
    assert weekly["template"] and weekly["sop"]
    reach = _column("template", "触达客户数")
    assert sum(int(row[reach]) for row in weekly["template"]) > 0
    expect(page.locator("#front-title")).to_have_text("前台·过程考核")
    expect(page.locator("#middle-title")).to_have_text("中台·结果考核")
    screenshot(page, "manager-scorecard-weekly")

    # 日跟踪: the demo date only (the seed ran two days, so fewer tasks).
    page.select_option("select[name=period]", "daily")
    page.get_by_role("button", name="查询").click()
    page.wait_for_url(re.compile(r"period=daily"))
    expect(page.locator("#scorecard-chart")).to_have_attribute("src", re.compile("period=daily"))
    daily = _check_period(page, app, END)
    total = sum(int(row[assigned]) for row in daily["branch"] if row[0] in HZ_SUB_BRANCHES)
    assert 0 < total < sum(int(by_branch[name][assigned]) for name in HZ_SUB_BRANCHES)
    screenshot(page, "manager-scorecard-daily")

    # 月考核: the 1st of the month .. the demo date.
    page.select_option("select[name=period]", "monthly")
    page.get_by_role("button", name="查询").click()
    page.wait_for_url(re.compile(r"period=monthly"))
    _check_period(page, app, END.replace(day=1))
    expect(page.locator("select[name=period]")).to_have_value("monthly")

    # Content templates belong to the middle office: a readable refusal.
    response = page.goto("/content/")
    assert response.status == 403
    expect(page.locator("main")).to_contain_text("需要以下角色之一：内容编辑（中台）")
