"""Chinese labels on content pages, retire confirmation and retired templates."""

from app.broadcasts.models import SopPlan
from app.content import services
from app.content.checks import RENDER_RULE_ID
from app.content.models import TemplateStatus
from tests.factories import SopPlanFactory

SAFE = "定投是一种纪律性的投资方式。基金有风险，投资须谨慎。\n—— {{ staff.name }}"
GOLD_TITLE = "COMEX黄金价格与均线（美元/盎司）"


def _template(author, chart_spec=None, body=SAFE):
    return services.create_template(author.id, "fund-edu", "定投课堂", "fund", "moments_post",
                                    chart_spec, body)


def test_chart_specs_are_shown_by_their_chinese_titles(client, login_as, db, editor):
    _template(editor, chart_spec="gold")
    login_as(editor)
    db.session.commit()
    listing = client.get("/content/").get_data(as_text=True)
    assert f"<td>{GOLD_TITLE}</td>" in listing and "<td>gold</td>" not in listing
    new = client.get("/content/new").get_data(as_text=True)
    assert f'<option value="gold">{GOLD_TITLE}</option>' in new
    assert '<option value="cny_fx">人民币汇率走势</option>' in new


def test_preview_names_series_in_chinese(client, login_as, editor, market, stub_charts):
    body = "上证指数收报 {{ market.SSE.close|num }} 点。市场有风险，投资须谨慎。"
    template = services.create_template(editor.id, "sse", "上证速览", "general",
                                        "mass_message", None, body)
    login_as(editor)
    html = client.get(f"/content/{template.id}/preview?date=2025-04-25").get_data(as_text=True)
    line = html[html.index("行情截至："):]
    line = line[:line.index("</p>")]
    assert "上证指数 2025-04-2" in line and "SSE" not in line and "USDCNY" not in line


def test_retire_asks_for_confirmation_and_counts_active_plans(client, login_as, db, editor):
    template = _template(editor)
    SopPlanFactory(template=template)
    SopPlanFactory(template=template)
    SopPlanFactory(template=template, is_active=False)
    login_as(editor)
    db.session.commit()
    html = client.get(f"/content/{template.id}").get_data(as_text=True)
    assert ("onsubmit=\"return confirm('有 2 个运行中的 SOP 计划使用此模板，"
            "停用后这些计划将不再发送。确定停用模板？") in html
    assert db.session.query(SopPlan).count() == 3


def test_retired_template_has_no_edit_link_and_edit_redirects(client, login_as, db, editor):
    template = _template(editor)
    services.retire(template.id, editor.id)
    login_as(editor)
    db.session.commit()
    html = client.get(f"/content/{template.id}").get_data(as_text=True)
    assert f'/content/{template.id}/edit"' not in html and "停用模板" not in html
    response = client.get(f"/content/{template.id}/edit", follow_redirects=True)
    assert "模板已停用，不能编辑" in response.get_data(as_text=True)
    assert template.status is TemplateStatus.retired


def test_render_failure_citation_is_chinese(editor, market):
    template = _template(editor, body="收盘 {{ market.XXX.close }}。基金有风险，投资须谨慎。")
    finding = next(f for f in template.latest_version.findings if f.rule_id == RENDER_RULE_ID)
    assert "StrictUndefined" not in finding.citation and "不留空白" in finding.citation
