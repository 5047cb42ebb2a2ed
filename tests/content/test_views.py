import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from app.content import services
from app.content.models import TemplateStatus, TemplateVersion
from app.market.charts import chart_url, render_charts
from app.market.models import ChartImage, PriceBar
from app.org.models import Role
from tests.factories import UserFactory
from tests.market.helpers import csv_rows, published_days

SAFE = ("定投是一种纪律性的投资方式。基金有风险，投资须谨慎。"
        "基金管理人不保证基金一定盈利，也不保证最低收益。\n—— {{ staff.name }}")
UNSAFE = "本基金保本保息。投资有风险，投资须谨慎。"

ROUTES = [
    ("get", "/content/"),
    ("get", "/content/new"),
    ("post", "/content/new"),
    ("get", "/content/{id}"),
    ("get", "/content/{id}/edit"),
    ("post", "/content/{id}/edit"),
    ("get", "/content/{id}/preview"),
    ("post", "/content/{id}/submit"),
    ("post", "/content/{id}/approve"),
    ("post", "/content/{id}/reject"),
    ("post", "/content/{id}/retire"),
    ("get", "/content/{id}/versions"),
    ("get", "/content/{id}/versions/1"),
]


def _template(author, body=SAFE, slug="fund-edu"):
    return services.create_template(author.id, slug, "定投课堂", "fund", "moments_post", None,
                                    body)


@pytest.mark.parametrize("role", ["frontline", "manager"])
def test_non_middle_office_gets_403_everywhere(client, login_as, db, editor, role):
    template = _template(editor)
    login_as(role)
    db.session.commit()  # error handlers roll the session back
    for method, url in ROUTES:
        response = getattr(client, method)(url.format(id=template.id), data={"body": "x"})
        assert response.status_code == 403, (method, url)
    assert template.status is TemplateStatus.draft and len(template.versions) == 1


def test_anonymous_is_sent_to_login(client, editor):
    template = _template(editor)
    response = client.get(f"/content/{template.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_reviewer_cannot_edit_and_editor_cannot_approve(client, login_as, db, editor):
    template = _template(editor)
    services.submit_for_review(template.id, editor.id)
    login_as("reviewer")
    other_editor = UserFactory(role="editor")
    db.session.commit()
    assert client.post(f"/content/{template.id}/edit", data={"body": SAFE + "x"}).status_code == 403
    assert client.get("/content/new").status_code == 403
    login_as(other_editor)
    assert client.post(f"/content/{template.id}/approve").status_code == 403
    assert template.status is TemplateStatus.in_review


def test_list_shows_status_product_channel_and_findings(client, login_as, editor):
    _template(editor)
    _template(editor, UNSAFE, slug="unsafe")
    login_as(editor)
    html = client.get("/content/").get_data(as_text=True)
    assert "定投课堂" in html and "草稿" in html and "基金" in html and "朋友圈" in html
    assert re.search(r"阻断 \d", html)
    assert "待复核" in client.get("/content/?status=in_review").get_data(as_text=True)


def test_create_and_edit_flow_highlights_findings(client, login_as, db):
    editor = login_as("editor")
    response = client.post("/content/new", data={
        "slug": "fund-a", "title": "基金课堂", "product": "fund", "channel": "moments_post",
        "chart_spec": "", "body": SAFE})
    assert response.status_code == 302
    template_id = int(response.headers["Location"].rstrip("/").split("/")[-2])
    template = services.get_template(template_id)
    assert template.author_id == editor.id and template.latest_version.number == 1

    response = client.post(f"/content/{template_id}/edit", data={"body": UNSAFE})
    assert response.status_code == 302
    html = client.get(f"/content/{template_id}/edit").get_data(as_text=True)
    assert "第 2 版" in html
    assert re.search(r'<mark class="finding-block" title="[^"]*INV-01[^"]*">[^<]*保本', html)
    assert "INV-01" in html and "阻断" in html


def test_new_template_validation_errors(client, login_as, db):
    login_as("editor")
    db.session.commit()
    response = client.post("/content/new", data={
        "slug": "Bad Slug", "title": "", "product": "fund", "channel": "moments_post",
        "chart_spec": "", "body": ""})
    assert response.status_code == 200
    assert "只能包含小写字母" in response.get_data(as_text=True)


def test_submit_and_approve_happy_path(client, login_as, editor):
    template = _template(editor)
    login_as(editor)
    assert client.post(f"/content/{template.id}/submit").status_code == 302
    assert template.status is TemplateStatus.in_review
    reviewer = login_as("reviewer")
    html = client.get(f"/content/{template.id}").get_data(as_text=True)
    assert re.search(r'<button type="submit" class="primary">批准</button>', html)
    response = client.post(f"/content/{template.id}/approve", data={"comment": "同意发布"})
    assert response.status_code == 302
    assert template.status is TemplateStatus.approved
    assert template.approved_version.approvals[0].reviewer_id == reviewer.id
    history = client.get(f"/content/{template.id}/versions").get_data(as_text=True)
    assert "同意发布" in history and "已批准" in history


def test_own_version_cannot_be_approved_in_the_ui(client, login_as, db, editor):
    """A former editor, now a reviewer, sees the approve button disabled on their own version."""
    template = _template(editor)
    services.submit_for_review(template.id, editor.id)
    editor.role = Role.reviewer
    login_as(editor)
    db.session.commit()
    html = client.get(f"/content/{template.id}").get_data(as_text=True)
    assert "批准</button>" in html and "disabled>批准" in html
    assert "不能批准自己编写的版本" in html
    response = client.post(f"/content/{template.id}/approve")
    assert response.status_code == 409
    assert "双人复核" in response.get_data(as_text=True)
    assert template.status is TemplateStatus.in_review


def test_blocked_template_approve_disabled_with_reason(client, login_as, db, editor):
    template = _template(editor, UNSAFE)
    template.status = TemplateStatus.in_review
    login_as("reviewer")
    db.session.commit()
    html = client.get(f"/content/{template.id}").get_data(as_text=True)
    assert "disabled>批准" in html and "存在阻断性合规问题" in html
    assert client.post(f"/content/{template.id}/approve").status_code == 409
    assert template.status is TemplateStatus.in_review


def test_reject_requires_comment(client, login_as, db, editor):
    template = _template(editor)
    services.submit_for_review(template.id, editor.id)
    login_as("reviewer")
    db.session.commit()
    assert client.post(f"/content/{template.id}/reject", data={"comment": ""}).status_code == 422
    response = client.post(f"/content/{template.id}/reject", data={"comment": "补充来源"})
    assert response.status_code == 302
    assert template.status is TemplateStatus.draft


def test_preview_renders_text_chart_and_findings(client, login_as, editor, market):
    body = ("上证指数收报 {{ market.SSE.close|num }} 点。数据来源：{{ market.SSE.source }}，"
            "截至 {{ market.SSE.as_of }}。市场有风险，投资须谨慎。\n—— {{ staff.name }}")
    template = services.create_template(editor.id, "sse", "上证速览", "general", "mass_message",
                                        "global_indices", body)
    login_as(editor)
    render_charts(dt.date(2025, 4, 25))  # the market step draws the charts; a preview reads them

    response = client.get(f"/content/{template.id}/preview?date=2025-04-25")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"上证指数收报 {market['SSE']['close']:,.2f} 点" in html
    day = published_days("SSE", dt.date(2025, 4, 25))[-1]  # as the 08:30 post would quote
    assert f"上证指数收报 {float(csv_rows('SSE')[day]['Close']):,.2f} 点" in html
    assert f"截至 {day.isoformat()}" in html and day < dt.date(2025, 4, 25)
    assert "示例客户经理" in html
    url = chart_url(dt.date(2025, 4, 25), "global_indices")
    assert f'src="{url}"' in html
    with client.get(url) as image:
        assert image.status_code == 200 and image.mimetype == "image/png"


def test_preview_writes_nothing_and_says_when_the_chart_is_not_drawn(client, login_as, db,
                                                                   editor, market):
    body = "上证指数收报 {{ market.SSE.close }} 点。"
    template = services.create_template(editor.id, "sse", "上证速览", "general", "mass_message",
                                        "global_indices", body)
    login_as(editor)
    db.session.commit()
    counts = _row_counts(db)
    html = client.get(f"/content/{template.id}/preview?date=2025-04-25").get_data(as_text=True)
    assert "2025-04-25 的配图「全球主要股指走势（起点=100）」尚未生成" in html
    assert "<img" not in html.split("渲染结果")[1].split("</section>")[0]
    db.session.expire_all()
    assert _row_counts(db) == counts


def test_preview_of_a_day_without_stored_bars_asks_for_another_date(client, login_as, db,
                                                                    editor, market):
    template = _template(editor)
    login_as(editor)
    db.session.commit()
    counts = _row_counts(db)
    html = client.get(f"/content/{template.id}/preview?date=2031-01-02").get_data(as_text=True)
    assert "2031-01-02 没有可用的行情数据，请换一个日期" in html
    assert _row_counts(db) == counts


def _row_counts(db) -> dict[str, int]:
    return {model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in (PriceBar, ChartImage, TemplateVersion)}


def test_preview_shows_render_error(client, login_as, editor, market, stub_charts):
    template = _template(editor, "收盘 {{ market.XXX.close }}。基金有风险，投资须谨慎。")
    login_as("reviewer")
    html = client.get(f"/content/{template.id}/preview?date=2025-04-25").get_data(as_text=True)
    assert "渲染失败" in html and "market.XXX" in html


def test_version_page(client, login_as, db, editor):
    template = _template(editor, UNSAFE)
    login_as("reviewer")
    db.session.commit()
    html = client.get(f"/content/{template.id}/versions/1").get_data(as_text=True)
    assert '<mark class="finding-block"' in html
    assert client.get(f"/content/{template.id}/versions/9").status_code == 404


def test_browser_crlf_body_is_stored_with_lf_and_unchanged_save_keeps_the_version(
    client, login_as, db, editor
):
    template = _template(editor)
    services.submit_for_review(template.id, editor.id)
    services.approve(template.id, login_as("reviewer").id)
    login_as(editor)
    db.session.commit()
    crlf = SAFE.replace("\n", "\r\n")  # what a browser submits for a textarea
    response = client.post(f"/content/{template.id}/edit", data={"body": crlf},
                           follow_redirects=True)
    assert "正文没有改动，仍为第 1 版" in response.get_data(as_text=True)
    assert len(template.versions) == 1 and template.status is TemplateStatus.approved

    client.post(f"/content/{template.id}/edit", data={"body": crlf + "\r\n欢迎咨询。"})
    assert template.latest_version.body == SAFE + "\n欢迎咨询。"


def test_content_form_messages_are_chinese(client, login_as, db):
    login_as("editor")
    db.session.commit()
    html = client.post("/content/new", data={"product": "fund", "channel": "moments_post"}
                       ).get_data(as_text=True)
    assert "This field is required" not in html and "标题：" in html


def test_render_only_finding_is_listed_not_highlighted(client, login_as, editor, market):
    body = "上证收于{{ market.XXX.close }}。基金有风险，投资须谨慎。"
    template = _template(editor, body=body, slug="render-only")
    finding = next(f for f in template.latest_version.findings if f.rule_id == "TPL-RENDER")
    assert (finding.start, finding.end) == (None, None)
    login_as(editor)
    html = client.get(f"/content/{template.id}").get_data(as_text=True)
    row = re.search(r'<td class="sev-(\w+)">(\S+)</td>\s*<td><code>TPL-RENDER</code></td>'
                    r'\s*<td>[^<]*</td>\s*<td>(.*?)</td>', html, re.DOTALL)
    assert row and row.group(1, 2) == ("block", "阻断")
    assert row.group(3).strip() == '<span class="muted">示例渲染文本中</span>'
    assert "TPL-RENDER" not in "".join(re.findall(r"<mark [^>]*>", html))
