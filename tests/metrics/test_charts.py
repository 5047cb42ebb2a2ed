import datetime as dt
import io
import warnings

from matplotlib.image import imread

from app.market.fonts import cjk_font_path
from app.metrics.charts import daily_rates_png
from app.metrics.records import DailyPoint, Scorecard


def _card(points):
    return Scorecard(branch_id=None, branch_name="全行", start=dt.date(2025, 4, 21),
                     end=dt.date(2025, 4, 25), daily=points)


def test_daily_chart_renders_chinese_without_missing_glyphs():
    points = [
        DailyPoint(dt.date(2025, 4, 21), 10, 8, 100, 0.8, 0.05),
        DailyPoint(dt.date(2025, 4, 22), 10, 0, 0, 0.0, None),
        DailyPoint(dt.date(2025, 4, 25), 10, 9, 120, 0.9, 0.1),
    ]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = daily_rates_png(_card(points))
    assert not [w for w in caught if "Glyph" in str(w.message)], [str(w.message) for w in caught]
    image = imread(io.BytesIO(png), format="png")
    assert image.shape[:2] == (420, 1000)


def test_empty_chart_still_png():
    png = daily_rates_png(_card([]))
    assert png.startswith(b"\x89PNG")


def test_cjk_font_is_the_mplfonts_noto_file():
    path = cjk_font_path()
    assert path.name == "NotoSansCJKsc-Regular.otf"
    assert path.parent.parent.name == "mplfonts"


def test_long_range_uses_automatic_date_ticks_without_warnings():
    start = dt.date(2025, 3, 1)
    points = [DailyPoint(start + dt.timedelta(days=i), 10, 7, 50, 0.7, 0.04) for i in range(45)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = daily_rates_png(_card(points))
    assert caught == []
    assert imread(io.BytesIO(png), format="png").shape[:2] == (420, 1000)
