"""Chart images from the specs in ``charts/``: matplotlib ``Figure`` on Agg only.

Every image is 1080 px wide (phone feeds) and carries, drawn on the image, the
Chinese title, "数据来源：…" and "截至 YYYY-MM-DD" (one line per as-of date when
series end on different dates). Chinese text uses Noto Sans CJK SC shipped by
the ``mplfonts`` package, registered with matplotlib's font manager (never
installed globally).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import threading
from dataclasses import dataclass

import matplotlib
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sqlalchemy import select

from app.core.errors import NotFound
from app.core.extensions import db
from app.core.storage import StoredFileMissing, storage
from app.core.upserts import upsert_rows
from app.market import chart_drawing
from app.market.chart_specs import ChartSpec, load_specs
from app.market.fonts import cjk_font_family
from app.market.instruments import get_series
from app.market.models import ChartImage
from app.market.services import MarketDataUnavailable, series_frame

logger = logging.getLogger(__name__)

WIDTH_PX = 1080
DPI = 100
_HEIGHT_PX = {"rebased": 1080, "price_ma": 1080, "panels": 1440}
_RENDER_LOCK = threading.Lock()  # rc_context mutates global rcParams


@dataclass(frozen=True)
class ChartResult:
    """One rendered chart.

    ``path`` is where the PNG is stored (absolute file path, or ``s3://`` URL), ``url``
    the app route, ``as_of`` maps series code → ISO date of its last close drawn,
    ``chart_image_id`` is the row id.
    """

    spec: str
    path: str
    url: str
    as_of: dict[str, str]
    chart_image_id: int


def _rc() -> dict:
    return {
        "font.family": [cjk_font_family()],
        "axes.unicode_minus": False,
        "font.size": 15,
        "axes.titlesize": 17,
        "legend.fontsize": 15,
    }


def render_chart(spec: ChartSpec, frames: dict[str, pd.DataFrame]) -> bytes:
    """Draw one chart as PNG.

    :param spec: the chart spec (kind decides the drawing).
    :param frames: series code → frame from ``series_frame`` (naive ``trade_date`` index,
        ``close`` column in the series unit), at least ``spec.bars_needed`` rows if available.
    :returns: PNG bytes, 1080 px wide, with title, source and as-of date(s) drawn on it.
    :raises KeyError: if a series of the spec is missing from ``frames``.
    """
    height = _HEIGHT_PX[spec.kind]
    with _RENDER_LOCK, matplotlib.rc_context(_rc()):
        figure = Figure(figsize=(WIDTH_PX / DPI, height / DPI), dpi=DPI)
        FigureCanvasAgg(figure)
        frames = {code: frames[code] for code in spec.series}
        subtitle = chart_drawing.draw(figure, spec, frames)
        chart_drawing.decorate(figure, spec, subtitle, as_of_lines(frames), height)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def as_of_lines(frames: dict[str, pd.DataFrame]) -> list[str]:
    """The "截至" text: one line if all series end on the same date, else one per date.

    :param frames: series code → frame (the last index entry is that series' as-of).
    :returns: lines such as ``["截至 2025-04-25"]`` or
        ``["纳斯达克综合指数、日经225 截至 2025-01-29", "上证指数 截至 2025-01-27"]``.
    """
    by_date: dict[str, list[str]] = {}
    for code, frame in frames.items():
        by_date.setdefault(frame.index[-1].date().isoformat(), []).append(get_series(code).name)
    if len(by_date) == 1:
        return [f"截至 {next(iter(by_date))}"]
    return [f"{'、'.join(names)} 截至 {day}" for day, names in sorted(by_date.items(),
                                                                    reverse=True)]


def chart_url(run_date: dt.date, spec_name: str) -> str:
    """URL path of a rendered chart, e.g. ``/charts/2025-04-25/gold.png``."""
    return f"/charts/{run_date.isoformat()}/{spec_name}.png"


def _save(run_date: dt.date, spec: ChartSpec, png: bytes, as_of: dict[str, str]) -> ChartResult:
    relative = f"{run_date.isoformat()}/{spec.name}.png"
    store = storage("charts")
    store.put(relative, png, "image/png")
    row = {"run_date": run_date, "spec_name": spec.name, "path": relative, "as_of": as_of,
           "sha256": hashlib.sha256(png).hexdigest()}
    upsert_rows(ChartImage.__table__, [row], ("run_date", "spec_name"),
                ("path", "as_of", "sha256"))
    image_id = db.session.scalar(select(ChartImage.id).where(
        ChartImage.run_date == run_date, ChartImage.spec_name == spec.name))
    return ChartResult(spec.name, store.locate(relative), chart_url(run_date, spec.name), as_of,
                       image_id)


def render_charts(run_date: dt.date, skip_unavailable: bool = False) -> list[ChartResult]:
    """Render every spec in ``CHART_SPEC_DIR`` for ``run_date`` from ``price_bars``.

    Stores ``<YYYY-MM-DD>/<spec>.png`` in the ``charts`` storage area (a file under
    ``CHART_OUTPUT_DIR`` by default, written atomically) and upserts one
    ``chart_images`` row per spec (unique on run date and spec). Flushes, never commits.

    :param run_date: content run date; each series uses only its bars published by
        ``app.market.services.market_cutoff(run_date)``, so the images (and their
        "截至" dates) match the figures of ``market_context(run_date)``.
    :param skip_unavailable: leave out (and log) a spec whose data is missing or stale
        instead of raising; the daily run then skips only the SOPs that need that chart.
    :returns: one ``ChartResult`` per rendered spec, in spec-name order.
    :raises MarketDataUnavailable: if a series of a spec has no fresh bar (see
        ``app.market.services.series_frame``) and ``skip_unavailable`` is false.
    """
    results = []
    for spec in load_specs():
        try:
            frames = {code: series_frame(code, run_date, spec.bars_needed)
                      for code in spec.series}
        except MarketDataUnavailable as error:
            if not skip_unavailable:
                raise
            logger.warning("chart %s for %s not rendered: %s", spec.name, run_date, error)
            continue
        as_of = {code: frame.index[-1].date().isoformat() for code, frame in frames.items()}
        result = _save(run_date, spec, render_chart(spec, frames), as_of)
        logger.info("chart %s for %s rendered: id=%s as_of=%s", spec.name, run_date,
                    result.chart_image_id, as_of)
        results.append(result)
    return results


def stored_chart_urls(run_date: dt.date) -> dict[str, str]:
    """URLs of the charts already rendered for ``run_date`` (read-only: renders nothing).

    :returns: spec name → ``/charts/<YYYY-MM-DD>/<spec>.png`` for each ``chart_images`` row
        of the date; empty when the market step has not drawn that date's charts.
    """
    names = db.session.scalars(select(ChartImage.spec_name).where(
        ChartImage.run_date == run_date).order_by(ChartImage.spec_name))
    return {name: chart_url(run_date, name) for name in names}


def chart_image(run_date: dt.date, spec_name: str) -> tuple[bytes, str]:
    """The stored PNG of a rendered chart, looked up in ``chart_images``.

    :param run_date: the run date the chart was rendered for.
    :param spec_name: the spec name (e.g. ``"gold"``).
    :returns: ``(png_bytes, sha256_hex)`` read from the ``charts`` storage area.
    :raises NotFound: when no row exists, the file is gone, or the stored key is not a
        plain relative path.
    """
    row = db.session.scalar(select(ChartImage).where(
        ChartImage.run_date == run_date, ChartImage.spec_name == spec_name))
    if row is None:
        raise NotFound("图表不存在")
    try:
        return storage("charts").get(row.path), row.sha256
    except (ValueError, StoredFileMissing):
        logger.warning("chart image %s has no usable file %s", row.id, row.path)
        raise NotFound("图表不存在") from None
