"""Render templates with real market data: as the scheduler would, for previews and samples.

Market figures come from ``app.market.services.market_context`` (``price_bars``),
chart URLs from ``app.market.charts.render_charts``; the sandbox does the rest. Both
apply the market cutoff of the run date (``app.market.services.market_cutoff``), so a
preview for date D shows the closes the D morning post will quote.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from app.core.clock import business_today
from app.core.errors import DomainError
from app.core.extensions import db
from app.market.charts import render_charts, stored_chart_urls
from app.market.models import PriceBar
from app.market.services import MarketDataUnavailable, market_context, refresh_market_data
from app.org.models import User
from app.rendering.isolation import render_isolated
from app.rendering.sandbox import TemplateRenderError, build_context

logger = logging.getLogger(__name__)

#: Chart spec names (files ``charts/<name>.toml``) when the spec folder cannot be read.
DEFAULT_CHART_SPECS = ("global_indices", "gold", "cny_fx")


@dataclass
class RenderOutcome:
    """Result of rendering a body for one date.

    ``text`` is ``None`` when rendering failed and ``error`` holds the safe Chinese
    message; ``charts`` maps spec name → URL; ``market_as_of`` maps series → ISO date.
    """

    run_date: dt.date
    text: str | None = None
    error: str | None = None
    charts: dict[str, str] = field(default_factory=dict)
    market_as_of: dict[str, str] = field(default_factory=dict)


def chart_spec_names() -> list[str]:
    """Names of the chart specs in ``CHART_SPEC_DIR`` (``*.toml`` stems), sorted.

    :returns: e.g. ``["cny_fx", "global_indices", "gold"]``; the defaults if the folder is absent.
    """
    folder = Path(current_app.config.get("CHART_SPEC_DIR") or "")
    names = sorted(p.stem for p in folder.glob("*.toml")) if folder.is_dir() else []
    return names or sorted(DEFAULT_CHART_SPECS)


def latest_market_date(on_or_before: dt.date | None = None) -> dt.date | None:
    """The latest date on which every stored series has a bar on or before it.

    :param on_or_before: upper bound (default ``business_today()``, Asia/Shanghai).
    :returns: the smallest of the series' last trade dates ≤ the bound, or ``None``
        when ``price_bars`` holds nothing up to the bound.
    """
    bound = on_or_before or business_today()
    return latest_market_dates([bound])[bound]


def latest_market_dates(days: Iterable[dt.date]) -> dict[dt.date, dt.date | None]:
    """:func:`latest_market_date` of each of ``days``, in two queries whatever their number.

    One query finds each series' last trade date up to the earliest day, one reads the
    trade dates between the earliest and the latest day; each day's answer then follows
    in date order (an approval rehearses 30 dates).

    :returns: each of ``days`` → its latest market date, or ``None``.
    """
    ordered = sorted(set(days))
    if not ordered:
        return {}
    first, last = ordered[0], ordered[-1]
    last_per_series = dict(db.session.execute(
        select(PriceBar.series_code, func.max(PriceBar.trade_date))
        .where(PriceBar.trade_date <= first).group_by(PriceBar.series_code)).all())
    later = db.session.execute(
        select(PriceBar.series_code, PriceBar.trade_date)
        .where(PriceBar.trade_date > first, PriceBar.trade_date <= last)
        .order_by(PriceBar.trade_date)).all() if last > first else []
    result, position = {}, 0
    for day in ordered:
        while position < len(later) and later[position].trade_date <= day:
            last_per_series[later[position].series_code] = later[position].trade_date
            position += 1
        result[day] = min(last_per_series.values(), default=None)
    return result


def placeholder_chart_urls(run_date: dt.date) -> dict[str, str]:
    """Chart URLs by the charts' URL convention, without rendering (for sample renders).

    :returns: spec name → ``/charts/<ISO date>/<spec>.png``.
    """
    return {name: f"/charts/{run_date.isoformat()}/{name}.png" for name in chart_spec_names()}


def sample_context(run_date: dt.date | None = None) -> dict[str, Any] | None:
    """A template context from stored market data with the sample staff, no refresh.

    :param run_date: date of the figures (default :func:`latest_market_date`).
    :returns: the ``build_context`` dict, or ``None`` when no market data is stored.
    """
    day = run_date or latest_market_date()
    if day is None:
        return None
    try:
        market = market_context(day)
    except MarketDataUnavailable as error:
        logger.info("no sample context for %s: %s", day, error)
        return None
    return build_context(day, market, None, placeholder_chart_urls(day))


def render_as_scheduled(body: str, run_date: dt.date, staff: Any = None) -> RenderOutcome:
    """Render ``body`` for ``run_date`` exactly as the daily run would (the CLI's render).

    Loads the provider's bars for the date (idempotent upsert), renders the chart
    specs (upserting ``chart_images``), builds the context with ``staff`` (a ``User``,
    or ``None`` for the sample signature) and renders in the sandbox, in a render worker
    under the render budget (``app.rendering.isolation``). Flushes only.

    :param body: template source.
    :param run_date: business date (Asia/Shanghai calendar date).
    :param staff: receiving front-line user or ``None``.
    :returns: a :class:`RenderOutcome`; a template error (budget breaches included, e.g.
        ``模板渲染超出限制：运行时间超过 1 秒``) is in ``error``, not raised.
    :raises app.market.services.MarketDataUnavailable: when a series has no usable bar.
    """
    refresh_market_data(run_date)
    charts = {chart.spec: chart.url for chart in render_charts(run_date)}
    return _render(body, run_date, market_context(run_date), charts, staff)


def _render(body: str, run_date: dt.date, market: dict, charts: dict[str, str],
            staff: Any = None) -> RenderOutcome:
    outcome = RenderOutcome(
        run_date=run_date, charts=charts,
        market_as_of={code: series["as_of"] for code, series in market.items()},
    )
    try:
        outcome.text = render_isolated(body, build_context(run_date, market, staff, charts))
    except TemplateRenderError as error:
        outcome.error = error.message
    return outcome


def render_preview(body: str, run_date: dt.date | None = None) -> RenderOutcome:
    """Render ``body`` for a preview from stored data only: it never writes.

    The market step (the daily run, ``flask market refresh`` and ``flask market charts``)
    loads the bars and draws the charts; a preview reads ``price_bars`` and shows the
    charts already in ``chart_images`` for the date (``charts`` leaves out the others).

    :param run_date: date to preview; default the latest date with stored data ≤
        ``business_today()`` (Asia/Shanghai).
    :returns: a :class:`RenderOutcome` with text, or a safe Chinese ``error`` when the date
        has no stored market data or the template fails to render (or breaks the render
        budget: rendered in a worker process, ``app.rendering.isolation``).
    """
    day = run_date or latest_market_date()
    if day is None:
        return RenderOutcome(run_date=business_today(),
                             error="尚无行情数据：每日运行载入行情后才能预览")
    try:
        market = market_context(day)
    except DomainError as error:  # MarketDataUnavailable and friends
        logger.info("preview for %s has no market data: %s", day, error)
        message = f"{day.isoformat()} 没有可用的行情数据，请换一个日期"
        return RenderOutcome(run_date=day, error=message)
    return _render(body, day, market, stored_chart_urls(day))


def staff_by_username(username: str):
    """The ``User`` with this username, or ``None``."""
    return db.session.scalar(select(User).where(User.username == username))
