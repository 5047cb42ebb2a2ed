import datetime as dt
import struct
import warnings
from pathlib import Path

import pytest
from matplotlib import font_manager
from matplotlib.ft2font import FT2Font
from sqlalchemy import func, select

from app.market import charts
from app.market.chart_specs import load_specs, parse_spec
from app.market.charts import as_of_lines, render_chart, render_charts
from app.market.fonts import cjk_font_family, cjk_font_path
from app.market.models import ChartImage
from app.market.services import refresh_market_data, series_frame

D = dt.date
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE
    return struct.unpack(">II", data[16:24])


def test_specs_are_the_three_standard_charts(app):
    with app.app_context():
        specs = {spec.name: spec for spec in load_specs()}
    assert set(specs) == {"global_indices", "gold", "cny_fx"}
    assert specs["global_indices"].series == ("SSE", "HSI", "IXIC", "N225")
    assert specs["global_indices"].kind == "rebased" and specs["global_indices"].base == 100
    assert specs["gold"].moving_averages == (20, 60) and specs["gold"].bars_needed == 179
    assert specs["cny_fx"].series[0] == "USDCNY" and len(specs["cny_fx"].series) >= 2
    for spec in specs.values():
        assert spec.title and spec.source.startswith("Yahoo Finance")


def test_invalid_spec_is_refused():
    base = {"name": "x", "title": "标题", "kind": "rebased", "series": ["SSE"], "window": 60,
            "source": "s"}
    assert parse_spec(base, "x.toml").window == 60
    with pytest.raises(ValueError, match="x.toml: missing source"):
        parse_spec({k: v for k, v in base.items() if k != "source"}, "x.toml")
    with pytest.raises(ValueError, match="kind"):
        parse_spec({**base, "kind": "pie"}, "x.toml")
    with pytest.raises(ValueError, match="unknown or empty series"):
        parse_spec({**base, "series": ["SSE", "DAX"]}, "x.toml")


def test_font_is_the_noto_cjk_file_from_mplfonts():
    family = cjk_font_family()
    path = font_manager.findfont(font_manager.FontProperties(family=family),
                                 fallback_to_default=False)
    assert Path(path) == cjk_font_path()
    assert Path(path).name == "NotoSansCJKsc-Regular.otf" and "mplfonts" in Path(path).parts


def test_every_drawn_character_has_a_glyph_in_the_font(app, db):
    refresh_market_data(D(2025, 1, 29))
    font = FT2Font(str(cjk_font_path()))
    specs = load_specs()
    texts = [s.title + s.source for s in specs]
    frames = {code: series_frame(code, D(2025, 1, 29), 5) for code in ("SSE", "HSI", "IXIC")}
    texts += as_of_lines(frames) + ["数据来源：截至近个交易日表现收盘价与日均线=,.-0123456789"]
    missing = {ch for text in texts for ch in text if font.get_char_index(ord(ch)) == 0}
    assert missing == set()


def test_render_charts_writes_pngs_and_upserts_rows(app, db):
    refresh_market_data(D(2025, 4, 25))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph would warn → fail
        results = render_charts(D(2025, 4, 25))
    assert [r.spec for r in results] == ["cny_fx", "global_indices", "gold"]
    out_dir = Path(app.config["CHART_OUTPUT_DIR"])
    for result in results:
        data = Path(result.path).read_bytes()
        width, height = png_size(data)
        assert width == 1080 and 1000 <= height <= 1500
        assert Path(result.path) == out_dir / "2025-04-25" / f"{result.spec}.png"
        assert result.url == f"/charts/2025-04-25/{result.spec}.png"
        row = db.session.get(ChartImage, result.chart_image_id)
        assert row.spec_name == result.spec and row.path == f"2025-04-25/{result.spec}.png"
        assert row.as_of == result.as_of and len(row.sha256) == 64
    gold = next(r for r in results if r.spec == "gold")
    assert gold.as_of == {"GOLD": "2025-04-25"}
    again = render_charts(D(2025, 4, 25))
    assert [r.chart_image_id for r in again] == [r.chart_image_id for r in results]
    assert db.session.scalar(select(func.count()).select_from(ChartImage)) == 3


def test_closed_market_as_of_is_per_series(db):
    refresh_market_data(D(2025, 1, 29))
    results = {r.spec: r for r in render_charts(D(2025, 1, 29))}
    as_of = results["global_indices"].as_of
    assert as_of == {"SSE": "2025-01-27", "HSI": "2025-01-28", "IXIC": "2025-01-29",
                     "N225": "2025-01-29"}
    frames = {c: series_frame(c, D(2025, 1, 29), 3) for c in ("SSE", "HSI", "IXIC", "N225")}
    assert as_of_lines(frames) == [
        "纳斯达克综合指数、日经225 截至 2025-01-29", "恒生指数 截至 2025-01-28",
        "上证指数 截至 2025-01-27",
    ]
    assert as_of_lines({"SSE": frames["SSE"]}) == ["截至 2025-01-27"]


def test_render_chart_is_deterministic(app, db):
    refresh_market_data(D(2025, 4, 25))
    spec = next(s for s in load_specs() if s.name == "gold")
    frames = {"GOLD": series_frame("GOLD", D(2025, 4, 25), spec.bars_needed)}
    assert render_chart(spec, frames) == render_chart(spec, frames)


def test_market_package_uses_only_the_figure_api():
    forbidden = ("py" + "plot", "pl" + "t.")  # the global state-machine interface
    package = Path(charts.__file__).parent
    for path in package.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert not any(word in source for word in forbidden), path.name
