"""Issues 9 and 10: why a plan publishes nothing, as a reason code 日跟踪 shows.

The render step checks the template's validity window, the freshness of the market data a
commentary quotes (exchange sessions, so a holiday is not stale), every wording with
``check_rendered`` (content kind, chart) and the channel's length limit per staff text; and
substituted names, except those checked when their user or branch was saved.
"""

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import select

from app.broadcasts import jobs, plan_texts
from app.broadcasts.models import PlanRun, RunStatus, Task
from app.broadcasts.run_day import market_step, run_day
from app.compliance import name_check_sha256
from app.content.models import Channel, ContentKind
from app.core.extensions import db as _db
from app.org.models import BranchLevel, User
from tests.broadcasts.test_run_day import BRIEF, STORED, approved_template
from tests.factories import BranchFactory, SopPlanFactory, UserFactory

NOW = dt.datetime(2025, 4, 25, 0, 0, 30, tzinfo=dt.UTC)  # 08:00:30 in Shanghai


@pytest.fixture
def hq(db):
    branch = BranchFactory(level=BranchLevel.hq, name="总行营业部")
    for name in ("张三", "李四"):
        UserFactory(role="frontline", branch=branch, display_name=name)
    return branch


def _plan(hq, body, **template):
    chart = template.pop("chart_spec", None)
    product = template.pop("product", "general")
    created = approved_template(body, product=product, chart_spec=chart)
    for key, value in template.items():
        setattr(created, key, value)
    return SopPlanFactory(name="测试计划", template=created, branch=hq, calendar="daily",
                          schedule="cron:0 8 * * *",
                          created_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))


def _only_skip(result):
    assert result.posts_created == 0 and _db.session.scalar(select(Task.id)) is None
    [skipped] = result.posts_skipped
    return skipped


def test_outside_the_validity_window_is_skipped_and_shown_in_tracking(hq, client, login_as):
    _plan(hq, BRIEF, valid_from_date=dt.date(2025, 4, 28), valid_until_date=dt.date(2025, 5, 5))
    editor = UserFactory(role="editor", branch=hq)
    jobs.tick("test", NOW)
    run = _db.session.scalars(select(PlanRun).where(PlanRun.status == RunStatus.skipped)).one()
    assert run.reason_code == "outside_validity"
    assert "不在有效期内（2025-04-28 至 2025-05-05）" in run.reason
    login_as(editor)
    page = client.get("/tracking?date=2025-04-25").get_data(as_text=True)
    assert "已跳过" in page and "不在有效期内（2025-04-28 至 2025-05-05）" in page


def test_inside_the_validity_window_publishes(hq):
    _plan(hq, BRIEF, valid_from_date=STORED, valid_until_date=STORED)
    assert run_day(STORED, refresh_market=False).posts_created == 1


def test_stale_market_data_skips_a_commentary_with_the_series_and_its_lag(hq):
    _plan(hq, BRIEF)  # quotes SSE and HSI
    day = market_step(STORED, refresh_market=False)
    old = {**day.market, "SSE": {**day.market["SSE"], "as_of": "2025-04-21"}}
    result = run_day(STORED, market_day=dataclasses.replace(day, market=old))
    skipped = _only_skip(result)
    assert skipped.code == "stale_market_data"
    assert skipped.reason == ("行情数据不够新：上证指数 数据截至 2025-04-21，落后 3 个交易日"
                              "（时效上限 1 个）")  # 04-22, 04-23 and 04-24 missing


def test_freshness_applies_only_to_market_commentary_and_quoted_series(hq):
    day = market_step(STORED, refresh_market=False)
    old = {**day.market, "GOLD": {**day.market["GOLD"], "as_of": "2025-04-01"}}
    _plan(hq, BRIEF)  # does not quote GOLD
    _plan(hq, "{{ date }} 节日快乐，{{ staff.name }}。金价 {{ market.GOLD.close|num }}。",
          content_kind=ContentKind.greeting)
    result = run_day(STORED, market_day=dataclasses.replace(day, market=old))
    assert result.posts_created == 2 and result.posts_skipped == []


def test_a_market_closed_for_a_holiday_is_not_stale(hq):
    _plan(hq, BRIEF, chart_spec="global_indices")
    # 2025-02-05: Shanghai reopens after Lunar New Year; its last close is 2025-01-27
    result = run_day(dt.date(2025, 2, 5))
    assert result.market_as_of["SSE"] == "2025-01-27"
    assert result.posts_created == 1, result.posts_skipped


LONG = "晴" * 1325  # 3,975 bytes of UTF-8, 1,325 characters


@pytest.mark.parametrize("channel, published", [
    (Channel.mass_message, False), (Channel.customer_group, False), (Channel.moments_post, True)])
def test_the_channel_limit_applies_to_each_staff_text(hq, channel, published):
    UserFactory(role="frontline", branch=hq, display_name="欧阳" * 5)  # +30 bytes: 4,005
    _plan(hq, LONG + "{{ staff.name }}", channel=channel)
    result = run_day(STORED, refresh_market=False)
    if published:
        assert result.posts_created == 1 and result.tasks_created == 3
        return
    skipped = _only_skip(result)
    assert (skipped.code, skipped.rule_ids) == ("channel_limit", ["CH-LEN"])
    assert "4,005 字节，超过企业微信上限 4,000 字节" in skipped.reason


def test_the_channel_limit_passes_when_every_name_fits(hq):
    _plan(hq, LONG + "{{ staff.name }}", channel=Channel.mass_message)
    assert run_day(STORED, refresh_market=False).posts_created == 1  # 3,981 bytes at most


COMMENTARY = ("上证指数近一周上涨2%（数据来源：Yahoo Finance 000001.SS，截至2025-04-24）。"
              "市场有风险，投资须谨慎。{{ staff.name }}")


def test_the_content_kind_decides_the_rules(hq):
    _plan(hq, COMMENTARY)  # market commentary: 近一周上涨 is commentary
    _plan(hq, COMMENTARY, product="fund", content_kind=ContentKind.product_promotion)
    result = run_day(STORED, refresh_market=False)
    assert result.posts_created == 1
    [skipped] = result.posts_skipped
    assert skipped.code == "compliance" and "DATA-03" in skipped.rule_ids


def test_names_checked_on_save_are_not_checked_again(hq, monkeypatch):
    for user in hq_users(hq):
        user.name_check_sha256 = name_check_sha256(user.display_name)
    hq.name_check_sha256 = name_check_sha256(hq.name)
    screened = []
    real = plan_texts.check_text
    monkeypatch.setattr(plan_texts, "check_text",
                        lambda text, *a, **k: screened.append(text) or real(text, *a, **k))
    _plan(hq, "{{ date }} {{ staff.branch }}{{ staff.name }}：市场有风险，投资须谨慎。")
    assert run_day(STORED, refresh_market=False).posts_created == 1
    assert screened == []  # no screening of names at all


@pytest.mark.parametrize("marker", [None, "renamed"])
def test_names_without_a_valid_marker_are_checked_once_per_run(hq, marker):
    bad = UserFactory(role="frontline", branch=hq, display_name="保本保收益")
    if marker:  # renamed outside the admin form: the marker is of the old name
        bad.name_check_sha256 = name_check_sha256("王五")
    _plan(hq, "{{ date }} {{ staff.name }}：市场有风险，投资须谨慎。")
    skipped = _only_skip(run_day(STORED, refresh_market=False))
    assert skipped.code == "compliance" and "客户经理姓名或机构名称" in skipped.reason


def hq_users(branch):
    return _db.session.scalars(select(User).where(User.branch_id == branch.id)).all()
