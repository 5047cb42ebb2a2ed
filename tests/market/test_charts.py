import datetime as dt
import struct
import warnings
from pathlib import Path

import pytest
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font
from sqlalchemy import func, select

from app.market import chart_drawing, charts
from app.market.chart_specs import load_specs, parse_spec
from app.market.charts import as_of_lines, render_chart, render_charts
from app.market.fonts import cjk_font_family, cjk_font_path
from app.market.models import ChartImage
from app.market.services import market_context, refresh_market_data, series_frame
from tests.market.helpers import published_days

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


def test_render_charts_writes_pngs_and_upserts_rows(app, db, real_chart_drawing):
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
    assert gold.as_of == {"GOLD": published_days("GOLD", D(2025, 4, 25))[-1].isoformat()}
    assert gold.as_of == {"GOLD": "2025-04-24"}  # the 04-25 bar is stored but not yet published
    again = render_charts(D(2025, 4, 25))
    assert [r.chart_image_id for r in again] == [r.chart_image_id for r in results]
    assert db.session.scalar(select(func.count()).select_from(ChartImage)) == 3


def test_closed_market_as_of_is_per_series(db):
    refresh_market_data(D(2025, 1, 29))
    results = {r.spec: r for r in render_charts(D(2025, 1, 29))}
    as_of = results["global_indices"].as_of
    assert as_of == {"SSE": "2025-01-27", "HSI": "2025-01-28", "IXIC": "2025-01-28",
                     "N225": "2025-01-28"}
    frames = {c: series_frame(c, D(2025, 1, 29), 3) for c in ("SSE", "HSI", "IXIC", "N225")}
    assert as_of_lines(frames) == [
        "恒生指数、纳斯达克综合指数、日经225 截至 2025-01-28", "上证指数 截至 2025-01-27",
    ]
    assert as_of_lines({"SSE": frames["SSE"]}) == ["截至 2025-01-27"]


@pytest.mark.parametrize("run_date", [D(2025, 4, 25), D(2025, 1, 29)])
def test_chart_as_of_equals_the_context_as_of(db, run_date):
    refresh_market_data(run_date)
    context = market_context(run_date)
    for result in render_charts(run_date):
        assert result.as_of == {code: context[code]["as_of"] for code in result.as_of}
        spec = next(s for s in load_specs() if s.name == result.spec)
        frames = {c: series_frame(c, run_date, spec.bars_needed) for c in spec.series}
        # the "截至" text drawn on the image is built from these frames
        dates = {line.rsplit(" ", 1)[-1] for line in as_of_lines(frames)}
        assert dates == {context[code]["as_of"] for code in spec.series}


def _subtitle(spec, frames):
    figure = Figure(figsize=(10.8, 10.8), dpi=100)
    FigureCanvasAgg(figure)
    return chart_drawing.draw(figure, spec, frames)


def test_rebased_subtitle_counts_the_bars_actually_drawn(db):
    run_date = D(2025, 1, 29)  # the Nasdaq snapshot starts 2024-11-19: under 60 bars
    refresh_market_data(run_date)
    spec = next(s for s in load_specs() if s.name == "global_indices")
    frames = {c: series_frame(c, run_date, spec.bars_needed) for c in spec.series}
    ixic_days = published_days("IXIC", run_date)
    start = ixic_days[0]
    assert len(ixic_days) < spec.window
    drawn = max(len([d for d in published_days(c, run_date)[-spec.window:] if d >= start])
                for c in spec.series)
    assert _subtitle(spec, frames) == f"近{drawn}个交易日表现，{start.isoformat()} = 100"
    refresh_market_data(D(2025, 4, 25))
    frames = {c: series_frame(c, D(2025, 4, 25), spec.bars_needed) for c in spec.series}
    assert _subtitle(spec, frames).startswith(f"近{spec.window}个交易日表现，")


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
