import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.compliance import blocking, check_text
from app.content.library import install_library, load_library
from app.content.models import ContentTemplate, TemplateStatus
from app.content.rendering import placeholder_chart_urls
from app.core.errors import PermissionDenied, ValidationFailed
from app.rendering.sandbox import build_context, render_body
from tests.content.conftest import DEMO_DATE
from tests.factories import BranchFactory, UserFactory
from tests.market.helpers import published_days

LIBRARY = Path(__file__).resolve().parents[2] / "content_templates"
INDICES = ("SSE", "HSI", "IXIC", "N225")


def _entries():
    return {entry.slug: entry for entry in load_library(LIBRARY)}


def _render(slug, market, staff=None, run_date=DEMO_DATE):
    context = build_context(run_date, market, staff, placeholder_chart_urls(run_date))
    return render_body(_entries()[slug].body, context)


def test_manifest_covers_the_required_kinds(app):
    entries = load_library(LIBRARY)
    assert len(entries) >= 6
    by_slug = {e.slug: e for e in entries}
    assert by_slug["global-indices-morning"].chart_spec == "global_indices"
    assert by_slug["gold-market-watch"].chart_spec == "gold"
    assert by_slug["cny-fx-brief"].chart_spec == "cny_fx"
    assert {"general", "gold", "fx", "fund", "wealth"} <= {e.product for e in entries}
    assert all("staff.name" in e.body and "staff.branch" in e.body for e in entries)


def test_every_body_is_compliant_as_written(app):
    for entry in load_library(LIBRARY):
        assert blocking(check_text(entry.body, entry.product)) == [], entry.slug


@pytest.mark.parametrize("run_date", [DEMO_DATE, dt.date(2025, 1, 29), dt.date(2025, 4, 7)])
def test_every_rendering_is_compliant(db, run_date):
    from app.market.services import market_context, refresh_market_data

    refresh_market_data(run_date)
    market = market_context(run_date)
    for entry in load_library(LIBRARY):
        text = _render(entry.slug, market, run_date=run_date)
        assert "{{" not in text and "None" not in text
        assert blocking(check_text(text, entry.product)) == [], (entry.slug, text)


def test_required_statements(app):
    entries = _entries()
    assert "理财非存款、产品有风险、投资须谨慎" in entries["wealth-product-guide"].body
    assert "基金的过往业绩并不预示其未来表现" in entries["fund-dca-education"].body
    for slug in ("global-indices-morning", "gold-market-watch", "cny-fx-brief"):
        assert "投资须谨慎" in entries[slug].body and "数据来源：" in entries[slug].body


def test_indices_brief_numbers_equal_market_context(market):
    staff = UserFactory(display_name="王芳", branch=BranchFactory(name="城东支行"))
    text = _render("global-indices-morning", market, staff)
    assert "2025年4月25日 星期五" in text
    for code in INDICES:
        series = market[code]
        assert f"{series['name']}：收报 {series['close']:,.2f} 点" in text
        assert f"{abs(series['change_pct']):,.2f}%（{series['as_of']} 收盘）" in text
        assert series["source"] in text
    assert text.rstrip().endswith("—— 城东支行 王芳")


def test_gold_and_fx_numbers_equal_market_context(market):
    gold = _render("gold-market-watch", market)
    assert f"收于 {market['GOLD']['close']:,.2f} 美元/盎司" in gold
    assert f"截至 {market['GOLD']['as_of']}" in gold
    assert f"{market['GOLD']['period_change_pct']:+.2f}%" in gold
    fx = _render("cny-fx-brief", market)
    for code in ("USDCNY", "EURCNY", "JPYCNY"):
        assert f"{market[code]['name']}：{market[code]['close']:,.4f}" in fx


def test_closed_market_shows_its_own_as_of(db):
    from app.market.services import market_context, refresh_market_data

    day = dt.date(2025, 1, 29)  # Lunar New Year: Shanghai and Hong Kong closed
    refresh_market_data(day)
    market = market_context(day)
    text = _render("global-indices-morning", market, run_date=day)
    assert market["SSE"]["as_of"] == published_days("SSE", day)[-1].isoformat() == "2025-01-27"
    assert f"（{market['SSE']['as_of']} 收盘）" in text
    assert f"（{market['IXIC']['as_of']} 收盘）" in text and market["IXIC"]["as_of"] == "2025-01-28"


def test_install_library_is_idempotent_and_four_eyes(db, editor, reviewer, market):
    first = install_library(editor.id, reviewer.id)
    second = install_library(editor.id, reviewer.id)
    assert [t.id for t in first] == [t.id for t in second]
    assert db.session.scalar(select(func.count(ContentTemplate.id))) == len(first) >= 6
    for template in first:
        assert template.status is TemplateStatus.approved
        version = template.approved_version
        assert version.number == 1 and version.author_id == editor.id
        assert [a.reviewer_id for a in version.approvals] == [reviewer.id]
        assert not [f for f in version.findings if f.is_blocking]


def test_install_library_refuses_author_as_reviewer(db):
    editor = UserFactory(role="editor")
    with pytest.raises(PermissionDenied):
        install_library(editor.id, editor.id)


def test_install_library_refuses_an_admin_as_reviewer(db):
    editor, admin = UserFactory(role="editor"), UserFactory(role="admin")
    with pytest.raises(PermissionDenied):
        install_library(editor.id, admin.id)


def test_load_library_rejects_bad_manifest(tmp_path):
    (tmp_path / "ok.j2").write_text("你好", encoding="utf-8")
    (tmp_path / "library.toml").write_text(
        '[[templates]]\nslug = "a"\ntitle = "A"\nproduct = "general"\nchannel = "mass_message"\n'
        'file = "ok.j2"\n'
        '[[templates]]\nslug = "a"\ntitle = "B"\nproduct = "general"\nchannel = "mass_message"\n'
        'file = "ok.j2"\n'
        '[[templates]]\nslug = "c"\ntitle = "C"\nproduct = "general"\nchannel = "mass_message"\n'
        'file = "../secret.j2"\n'
        '[[templates]]\nslug = "d"\n',
        encoding="utf-8",
    )
    with pytest.raises(ValidationFailed) as caught:
        load_library(tmp_path)
    assert set(caught.value.errors) == {2, 3, 4}
