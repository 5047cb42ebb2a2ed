import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.broadcasts.models import Post, Task
from app.broadcasts.run_day import run_day
from app.content.models import ProductCategory, TemplateStatus
from app.core.extensions import db as _db
from app.market.chart_specs import load_spec
from app.org.models import BranchLevel
from tests.factories import (
    BranchFactory,
    ContentTemplateFactory,
    SopPlanFactory,
    TemplateVersionFactory,
    UserFactory,
)
from tests.market.helpers import csv_rows, published_days

#: The ``app`` fixture stored the bars of this date for the session, so runs for it skip
#: the provider; the CLI, scheduler-job and other-date tests run the market refresh too.
STORED = dt.date(2025, 4, 25)

BRIEF = (
    "【环球市场】{{ date }}\n"
    "上证指数收于{{ '%.2f'|format(market.SSE.close) }}点（截至{{ market.SSE.as_of }}）；"
    "恒生指数收于{{ '%.2f'|format(market.HSI.close) }}点（截至{{ market.HSI.as_of }}）。\n"
    "数据来源：{{ market.SSE.source }}、{{ market.HSI.source }}。\n"
    "市场有风险，投资须谨慎。{{ staff.name }}·{{ staff.branch }}"
)


def approved_template(body: str, product="general", chart_spec="global_indices"):
    template = ContentTemplateFactory(product=ProductCategory(product), chart_spec=chart_spec,
                                      status=TemplateStatus.approved)
    version = TemplateVersionFactory(
        template=template, body=body, body_sha256=hashlib.sha256(body.encode()).hexdigest()
    )
    template.approved_version = version
    _db.session.flush()
    return template


@pytest.fixture
def plan(db):
    hq = BranchFactory(level=BranchLevel.hq)
    sub = BranchFactory(parent=hq)
    for _ in range(3):
        UserFactory(role="frontline", branch=sub)
    UserFactory(role="editor", branch=hq)  # not a recipient
    return SopPlanFactory(template=approved_template(BRIEF), branch=hq, calendar="weekdays")


def published_close(code: str, run_date: dt.date) -> tuple[str, float]:
    """(ISO date, CSV close) of the last bar published by the 08:00 cutoff of ``run_date``."""
    day = published_days(code, run_date)[-1]
    return day.isoformat(), float(csv_rows(code)[day]["Close"])


def test_posts_carry_the_published_snapshot_closes(plan):
    result = run_day(STORED, refresh_market=False)
    assert result.posts_created == 1
    assert result.tasks_created == 3
    assert result.posts_skipped == []
    # sent 08:30 on 04-25: no close dated 04-25 exists yet (Nasdaq's 04-24 one does)
    assert set(result.market_as_of.values()) == {"2025-04-24"}
    for code in result.market_as_of:
        assert result.market_as_of[code] == published_days(code, dt.date(2025, 4, 25))[-1] \
            .isoformat(), code
    assert {c["spec"] for c in result.charts} >= {"global_indices", "gold", "cny_fx"}
    for chart in result.charts:
        assert chart["as_of"] == {code: result.market_as_of[code] for code in chart["as_of"]}
    sse_day, sse = published_close("SSE", dt.date(2025, 4, 25))
    _, hsi = published_close("HSI", dt.date(2025, 4, 25))
    assert sse != float(csv_rows("SSE")[dt.date(2025, 4, 25)]["Close"])
    tasks = _db.session.scalars(select(Task)).all()
    assert len(tasks) == 3
    for task in tasks:
        assert f"上证指数收于{sse:.2f}点（截至{sse_day}）" in task.text
        assert f"恒生指数收于{hsi:.2f}点" in task.text
        assert task.text.endswith(f"{task.staff.display_name}·{task.staff.branch.name}")
        assert task.body is None and task.body_sha256 is None  # points at the post's text
        assert task.post_text.post_id == task.post_id and task.post_text.variant == 0
    post = _db.session.scalar(select(Post))
    assert post.chart_image.spec_name == "global_indices"
    assert post.scheduled_at == dt.datetime(2025, 4, 25, 0, 30, tzinfo=dt.UTC)


def test_running_the_same_date_twice_creates_nothing_new(plan):
    run_day(STORED, refresh_market=False)
    again = run_day(STORED, refresh_market=False)
    assert (again.posts_created, again.tasks_created) == (0, 0)
    assert _db.session.scalar(select(func.count(Post.id))) == 1
    assert _db.session.scalar(select(func.count(Task.id))) == 3


def test_rerun_assigns_only_staff_added_since(plan):
    run_day(STORED, refresh_market=False)
    UserFactory(role="frontline", branch=plan.branch)
    again = run_day(STORED, refresh_market=False)
    assert (again.posts_created, again.tasks_created) == (0, 1)


def test_closed_market_uses_last_close_and_says_its_date(plan):
    result = run_day(dt.date(2025, 1, 29))  # Lunar New Year: Shanghai and Hong Kong closed
    assert result.posts_created == 1
    assert result.market_as_of["SSE"] == "2025-01-27"
    assert result.market_as_of["HSI"] == result.market_as_of["IXIC"] == "2025-01-28"
    sse = float(csv_rows("SSE")[dt.date(2025, 1, 27)]["Close"])
    _, hsi = published_close("HSI", dt.date(2025, 1, 29))
    body = _db.session.scalars(select(Task)).first().text
    assert f"上证指数收于{sse:.2f}点（截至2025-01-27）" in body
    assert f"恒生指数收于{hsi:.2f}点（截至2025-01-28）" in body
    indices = next(c for c in result.charts if c["spec"] == "global_indices")
    assert indices["as_of"]["SSE"] == "2025-01-27" and indices["as_of"]["IXIC"] == "2025-01-28"


def test_cutoff_setting_decides_which_closes_a_run_uses(app, plan, monkeypatch):
    monkeypatch.setitem(app.config, "MARKET_CUTOFF_TIME", dt.time(16, 30))  # after Asian closes
    result = run_day(STORED, refresh_market=False)
    assert result.market_as_of["SSE"] == result.market_as_of["HSI"] == "2025-04-25"
    assert result.market_as_of["IXIC"] == "2025-04-24"
    sse = float(csv_rows("SSE")[dt.date(2025, 4, 25)]["Close"])
    body = _db.session.scalars(select(Task)).first().text
    assert f"上证指数收于{sse:.2f}点（截至2025-04-25）" in body


def test_missing_figure_skips_the_sop_without_a_blank(db):
    hq = BranchFactory(level=BranchLevel.hq)
    UserFactory(role="frontline", branch=hq)
    body = "上证 {{ market.SSE.close }}，未知 {{ market.NOPE.close }}。市场有风险，投资须谨慎。"
    plan = SopPlanFactory(template=approved_template(body), branch=hq, calendar="weekdays")
    result = run_day(STORED, refresh_market=False)
    assert result.posts_created == 0
    assert [s.sop for s in result.posts_skipped] == [plan.name]
    assert "NOPE" in result.posts_skipped[0].reason
    assert _db.session.scalar(select(func.count(Task.id))) == 0


def test_blocking_compliance_finding_is_not_published(db):
    hq = BranchFactory(level=BranchLevel.hq)
    UserFactory(role="frontline", branch=hq)
    body = "本基金稳赚不赔，上证{{ market.SSE.close }}。市场有风险，投资须谨慎。"
    SopPlanFactory(template=approved_template(body, product="fund"), branch=hq,
                   calendar="weekdays")
    result = run_day(STORED, refresh_market=False)
    assert result.posts_created == 0
    assert "INV-01" in result.posts_skipped[0].rule_ids
    assert _db.session.scalar(select(func.count(Post.id))) == 0


def test_unapproved_template_and_closed_calendar_are_skipped(db):
    hq = BranchFactory(level=BranchLevel.hq)
    UserFactory(role="frontline", branch=hq)
    draft = ContentTemplateFactory(status=TemplateStatus.draft)
    SopPlanFactory(template=draft, branch=hq, calendar="weekdays")
    SopPlanFactory(template=approved_template(BRIEF), branch=hq, calendar="XSHG")
    result = run_day(dt.date(2025, 1, 29))
    reasons = sorted(s.reason for s in result.posts_skipped)
    assert len(reasons) == 2
    assert any("未批准" in r for r in reasons)
    assert any("非运行日（A股交易日（上交所））" in r for r in reasons)


def test_cli_prints_the_run_as_json(runner, plan):
    result = runner.invoke(args=["ops", "run-day", "--date", "2025-04-25"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["date"] == "2025-04-25"
    assert payload["posts_created"] == 1 and payload["tasks_created"] == 3
    assert set(payload) == {"date", "market_as_of", "charts", "posts_created",
                            "tasks_created", "posts_skipped", "market_unavailable"}
    assert payload["market_unavailable"] == {}
    assert all(Path(c["path"]).is_file() for c in payload["charts"])
    rerun = json.loads(runner.invoke(args=["ops", "run-day", "--date", "2025-04-25"]).output)
    assert rerun["posts_created"] == 0 and rerun["tasks_created"] == 0


def test_cli_rejects_a_bad_date(runner):
    result = runner.invoke(args=["ops", "run-day", "--date", "25/04/2025"])
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.output


def test_a_new_draft_keeps_the_approved_version_running(plan):
    template = plan.template
    approved_body = template.approved_version.body
    TemplateVersionFactory(template=template, body="草稿：{{ market.NOPE.close }}")
    template.status = TemplateStatus.draft
    _db.session.flush()
    result = run_day(STORED, refresh_market=False)
    assert result.posts_created == 1 and result.posts_skipped == []
    post = _db.session.scalar(select(Post))
    assert post.template_version.body == approved_body


def test_retired_template_is_skipped(plan):
    plan.template.status = TemplateStatus.retired
    _db.session.flush()
    result = run_day(STORED, refresh_market=False)
    assert result.posts_created == 0
    assert "已停用" in result.posts_skipped[0].reason


def test_a_stale_market_skips_only_the_sops_that_need_it(db):
    # The snapshot has no HSI or N225 bars from 2025-04-30 to 2025-09-05.
    hq = BranchFactory(level=BranchLevel.hq)
    UserFactory(role="frontline", branch=hq)
    indices = SopPlanFactory(template=approved_template(BRIEF), branch=hq, calendar="daily")
    gold_body = ("COMEX黄金收于{{ market.GOLD.close|round(2) }}美元/盎司"
                 "（截至{{ market.GOLD.as_of }}，数据来源：{{ market.GOLD.source }}）。"
                 "市场有风险，投资须谨慎。")
    SopPlanFactory(template=approved_template(gold_body, chart_spec="gold"), branch=hq,
                   calendar="daily")
    result = run_day(dt.date(2025, 6, 16))
    assert {"HSI", "N225"} <= set(result.market_unavailable)
    assert "HSI" not in result.market_as_of and "GOLD" in result.market_as_of
    assert "global_indices" not in {c["spec"] for c in result.charts}
    assert result.posts_created == 1
    assert [s.sop for s in result.posts_skipped] == [indices.name]
    title = load_spec("global_indices").title
    assert f"配图「{title}」未生成" in result.posts_skipped[0].reason


def test_cli_rejects_an_unknown_sop_id(runner, plan):
    result = runner.invoke(args=["ops", "run-day", "--date", "2025-04-25", "--sop", "999999"])
    assert result.exit_code == 2
    assert "no SOP plan with id 999999" in result.output
    assert _db.session.scalar(select(func.count(Post.id))) == 0
