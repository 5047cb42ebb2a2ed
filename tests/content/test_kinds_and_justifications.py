"""Content kinds decide the rules; warnings need a written justification; validity window."""

import datetime as dt

import pytest

from app.compliance import check_text
from app.content import services
from app.content.models import ContentKind, TemplateStatus
from app.core.errors import Conflict, ValidationFailed
from app.org.models import Role
from tests.factories import UserFactory

MARKET = ("今日上证指数收于3,300点，涨幅0.74%，近一周上涨2.1%（数据来源：Yahoo Finance，"
          "截至2025-04-24）。市场有风险，投资须谨慎。")
# a warning (INV-06 安全) and nothing blocking, for a gold promotion
GOLD_WARN = ("积存金1克起购，办理安全便捷。过往走势不代表未来表现。市场有风险，投资须谨慎。")


@pytest.fixture
def editor(db):
    return UserFactory(role=Role.editor)


@pytest.fixture
def reviewer(db):
    return UserFactory(role=Role.reviewer)


def test_a_market_report_with_source_and_date_is_never_blocked_as_a_fund_promotion():
    assert check_text(MARKET, "fund", content_kind="market_commentary") == []
    promoted = {f.rule_id for f in check_text(MARKET, "fund", content_kind="product_promotion")}
    assert {"FD-01", "FD-03", "DATA-03"} <= promoted  # every fund rule applies
    # with no kind and no product (the CLI), the most cautious reading still blocks
    assert "DATA-03" in {f.rule_id for f in check_text(MARKET)}


def test_a_greeting_that_promotes_a_product_is_blocked():
    text = "节日快乐！本产品火热认购中，欢迎咨询。"
    assert [(f.rule_id, f.severity.value) for f in check_text(
        text, "general", content_kind="greeting")] == [("KIND-01", "block")]
    assert "KIND-01" not in {f.rule_id for f in check_text(
        text, "wealth", content_kind="product_promotion")}


def test_a_promotion_needs_a_product_category(editor):
    with pytest.raises(ValidationFailed) as error:
        services.create_template(editor.id, "promo-x", "推介", "general", "moments_post", None,
                                 "您好。", content_kind="product_promotion")
    assert "product" in error.value.errors
    with pytest.raises(ValueError, match="product category"):
        check_text("您好", "general", content_kind="product_promotion")


def test_kind_defaults_from_the_product_and_validity_is_stored(editor):
    plain = services.create_template(editor.id, "plain-x", "早报", "general", "mass_message",
                                     None, MARKET)
    assert plain.content_kind is ContentKind.market_commentary
    dated = services.create_template(
        editor.id, "dated-x", "节日", "general", "mass_message", None, "五一快乐！",
        content_kind="greeting", valid_from_date=dt.date(2025, 4, 28),
        valid_until_date=dt.date(2025, 5, 5))
    assert dated.is_valid_on(dt.date(2025, 5, 1)) and not dated.is_valid_on(dt.date(2025, 5, 6))
    with pytest.raises(ValidationFailed) as error:
        services.create_template(editor.id, "bad-dates", "节日", "general", "mass_message",
                                 None, "您好。", valid_from_date=dt.date(2025, 5, 5),
                                 valid_until_date=dt.date(2025, 5, 1))
    assert "valid_until_date" in error.value.errors


def test_warnings_need_a_written_justification_shown_to_the_reviewer(db, editor, reviewer):
    template = services.create_template(editor.id, "gold-warn", "积存金", "gold",
                                        "moments_post", None, GOLD_WARN,
                                        content_kind="product_promotion")
    [warning] = template.latest_version.findings
    assert warning.rule_id == "INV-06" and not warning.is_blocking
    with pytest.raises(ValidationFailed) as error:
        services.submit_for_review(template.id, editor.id)
    assert f"justification_{warning.id}" in error.value.errors
    with pytest.raises(ValidationFailed):
        services.submit_for_review(template.id, editor.id, {warning.id: "好"})  # too short
    services.submit_for_review(template.id, editor.id,
                               {warning.id: "“安全”指办理渠道安全，不涉及收益承诺"})
    assert template.status is TemplateStatus.in_review
    assert warning.justification == "“安全”指办理渠道安全，不涉及收益承诺"
    assert warning.justified_by_id == editor.id and warning.justified_at is not None
    assert services.approval_blockers(template, reviewer) == []
    services.approve(template.id, reviewer.id)
    assert template.status is TemplateStatus.approved


def test_the_reviewer_page_shows_the_justification(client, db, login_as, editor):
    template = services.create_template(editor.id, "gold-page", "积存金", "gold",
                                        "moments_post", None, GOLD_WARN,
                                        content_kind="product_promotion")
    [warning] = template.latest_version.findings
    services.submit_for_review(template.id, editor.id, {warning.id: "渠道安全，非收益表述"})
    login_as("reviewer")
    db.session.commit()
    page = client.get(f"/content/{template.id}").get_data(as_text=True)
    assert "接受理由" in page and "渠道安全，非收益表述" in page


def test_the_submit_form_sends_justifications(client, db, login_as):
    user = login_as("editor")
    template = services.create_template(user.id, "gold-form", "积存金", "gold",
                                        "moments_post", None, GOLD_WARN,
                                        content_kind="product_promotion")
    [warning] = template.latest_version.findings
    db.session.commit()
    page = client.get(f"/content/{template.id}").get_data(as_text=True)
    assert f'name="justification_{warning.id}"' in page
    missing = client.post(f"/content/{template.id}/submit", data={})
    assert missing.status_code == 422
    done = client.post(f"/content/{template.id}/submit",
                       data={f"justification_{warning.id}": "渠道安全，非收益表述"})
    assert done.status_code == 302
    assert template.status is TemplateStatus.in_review
    with pytest.raises(Conflict):
        services.submit_for_review(template.id, user.id)


def test_live_check_returns_findings_segments_and_variables(client, db, login_as):
    user = login_as("editor")
    template = services.create_template(user.id, "live-x", "早报", "general", "mass_message",
                                        None, MARKET)
    db.session.commit()
    page = client.get(f"/content/{template.id}/edit").get_data(as_text=True)
    assert 'id="live-check"' in page and "[AL]" in page and "广告法" in page
    body = "今日金价必涨，稳赚不赔！{{ market.GOLD.close }}"
    response = client.post("/api/v1/compliance/check",
                           json={"template_id": template.id, "body": body})
    assert response.status_code == 200
    data = response.get_json()
    hits = {(f["rule_id"], body[f["start"]:f["end"]]) for f in data["findings"]
            if f["start"] is not None}
    assert ("INV-01", "稳赚不赔") in hits
    assert any(s["css"] == "finding-block" and s["text"] == "稳赚不赔" for s in data["segments"])
    names = {v["name"] for v in data["variables"]}
    assert {"date", "market.GOLD.close", "staff.name"} <= names
    bad = client.post("/api/v1/compliance/check", json={"template_id": template.id, "body": ""})
    assert bad.status_code == 422
