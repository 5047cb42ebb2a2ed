"""Market data rules: load bars into ``price_bars``, build the template context.

Dates are exchange-local trade dates (see ``app.market.instruments``); a run date
is a calendar date in ``TIMEZONE`` (Asia/Shanghai). Content for a run date may only
use bars already published at the market cutoff, ``MARKET_CUTOFF_TIME`` (default
08:00) in ``TIMEZONE`` on the run date (:func:`market_cutoff`): a bar dated D is
published at D ``close_time`` in its exchange timezone (``Series.published_at``). So a
post for 2025-04-25 quotes the Shanghai close of 2025-04-24 (2025-04-25's close
happens at 15:00) and the Nasdaq close of 2025-04-24 (04:00 Beijing on 04-25). For
each series the figures use the last published close, so a market that was closed
(e.g. Shanghai on 2025-01-28, Lunar New Year) shows its previous close with that
earlier ``as_of``. Closes older than ``MARKET_MAX_STALE_DAYS`` (default 14 calendar
days before the run date) are refused rather than shown as current.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from zoneinfo import ZoneInfo

import pandas as pd
from flask import current_app
from sqlalchemy import Row, func, select

from app.core.clock import utcnow
from app.core.extensions import db
from app.core.upserts import upsert_rows
from app.market.instruments import SERIES_CODES, get_series
from app.market.models import PriceBar
from app.market.providers import COLUMNS, MarketDataUnavailable, get_provider

__all__ = [
    "MarketDataUnavailable", "PERIOD_TRADING_DAYS", "available_market_context",
    "market_context", "market_cutoff", "refresh_market_data", "series_frame",
]

logger = logging.getLogger(__name__)

#: Trading days (of each series' own calendar) behind ``period_change_pct``.
PERIOD_TRADING_DAYS = 20
_VALUE_COLUMNS = ("open", "high", "low", "close", "volume", "source", "fetched_at")


def _optional(value: float) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


def _bar_rows(code: str, frame: pd.DataFrame, source: str) -> list[dict]:
    fetched_at = utcnow()
    return [
        {
            "series_code": code, "trade_date": stamp.date(),
            "open": _optional(row.open), "high": _optional(row.high), "low": _optional(row.low),
            "close": float(row.close), "volume": _optional(row.volume),
            "source": source, "fetched_at": fetched_at,
        }
        for stamp, row in zip(frame.index, frame.itertuples(index=False), strict=True)
    ]


def _new_or_changed(code: str, frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """The bars of ``frame`` (one series, the provider's shape) not already stored as they are.

    One query reads the stored bars of the frame's date range. Values are floats read back
    as stored (double precision on PostgreSQL), so an unchanged bar compares equal; a
    missing value is NaN in the frame and NULL (``None``) in the table.
    """
    if frame.empty:
        return frame
    query = select(PriceBar.trade_date, *(getattr(PriceBar, c) for c in COLUMNS),
                   PriceBar.source).where(
        PriceBar.series_code == code,
        PriceBar.trade_date.between(frame.index[0].date(), frame.index[-1].date()))
    stored = {day: tuple(values) for day, *values in db.session.execute(query)}
    changed = [stored.get(day) != (*(None if v != v else v for v in values), source)  # NaN
               for day, values in zip(frame.index.date, frame[COLUMNS].to_numpy().tolist(),
                                      strict=True)]
    return frame[changed]


def _last_trade_date(code: str, run_date: dt.date) -> dt.date | None:
    return db.session.scalar(
        select(func.max(PriceBar.trade_date)).where(
            PriceBar.series_code == code, PriceBar.trade_date <= run_date
        )
    )


def refresh_market_data(run_date: dt.date) -> dict[str, dt.date]:
    """Load the configured provider's bars into ``price_bars`` (idempotent upsert).

    Loads ``MARKET_HISTORY_DAYS`` calendar days up to ``run_date`` for every series in
    ``app.market.instruments.SERIES_CODES``; a series the provider cannot deliver is
    logged and skipped (its older stored bars stay). Only bars that are new or whose
    values changed (a provider's revision) are written, with ``fetched_at`` now: a daily
    refresh writes the day's new bars, not the whole history again. Flushes, never commits.

    :param run_date: last calendar date to load (inclusive).
    :returns: series code → date of its last stored bar on or before ``run_date``
        (series with no stored bar at all are absent).
    """
    provider = get_provider()
    start = run_date - dt.timedelta(days=int(current_app.config["MARKET_HISTORY_DAYS"]))
    as_of = {}
    for code in SERIES_CODES:
        try:
            frame = provider.daily_bars(code, start, run_date)
        except MarketDataUnavailable as error:
            logger.warning("market refresh %s for %s: %s", code, run_date, error)
        else:
            rows = _bar_rows(code, _new_or_changed(code, frame, provider.name), provider.name)
            upsert_rows(PriceBar.__table__, rows, ("series_code", "trade_date"), _VALUE_COLUMNS)
            logger.info("market refresh %s for %s: %s bars from %s, %s new or changed", code,
                        run_date, len(frame), provider.name, len(rows))
        last = _last_trade_date(code, run_date)
        if last is not None:
            as_of[code] = last
    db.session.flush()
    return as_of


def market_cutoff(run_date: dt.date) -> dt.datetime:
    """The instant by which a bar must be published to appear in content for ``run_date``.

    :param run_date: the content run date (calendar date in ``TIMEZONE``).
    :returns: timezone-aware ``run_date`` at ``MARKET_CUTOFF_TIME`` (a ``datetime.time``,
        default 08:00) in ``TIMEZONE`` (Asia/Shanghai).
    """
    config = current_app.config
    return dt.datetime.combine(run_date, config["MARKET_CUTOFF_TIME"],
                               tzinfo=ZoneInfo(config["TIMEZONE"]))


def _recent_bars(code: str, run_date: dt.date, count: int) -> list[Row]:
    """The last ``count`` bars published by the cutoff of ``run_date``, oldest first.

    Rows of ``trade_date`` and the ``COLUMNS`` values, not ORM objects: read-only, and a
    chart reads up to a year of them.

    :raises MarketDataUnavailable: when there is none, or the last one is stale.
    """
    cutoff = market_cutoff(run_date)
    # never past the run date itself, whatever the exchange timezone
    last_usable = min(get_series(code).last_published_date(cutoff), run_date)
    bars = list(db.session.execute(
        select(PriceBar.trade_date, *(getattr(PriceBar, c) for c in COLUMNS))
        .where(PriceBar.series_code == code, PriceBar.trade_date <= last_usable)
        .order_by(PriceBar.trade_date.desc())
        .limit(count)
    ))
    if not bars:
        raise MarketDataUnavailable(f"no {code} bar published by {cutoff.isoformat()}")
    max_stale = current_app.config["MARKET_MAX_STALE_DAYS"]
    if (run_date - bars[0].trade_date).days > max_stale:
        raise MarketDataUnavailable(
            f"last {code} bar is {bars[0].trade_date}, older than {max_stale} days before "
            f"{run_date}"
        )
    return bars[::-1]


def _series_context(code: str, run_date: dt.date) -> dict:
    series = get_series(code)
    bars = _recent_bars(code, run_date, PERIOD_TRADING_DAYS + 1)
    if len(bars) < 2:
        raise MarketDataUnavailable(f"need two {code} bars published for {run_date}")
    last, prev, base = bars[-1], bars[-2], bars[0]
    change = round(last.close / prev.close - 1, 6)
    return {
        "name": series.name,
        "close": last.close,
        "prev_close": prev.close,
        "change": change,
        "change_pct": round(change * 100, 4),
        "as_of": last.trade_date.isoformat(),
        "prev_as_of": prev.trade_date.isoformat(),
        "source": series.source,
        "unit": series.unit,
        "period_change_pct": round((last.close / base.close - 1) * 100, 4),
        "period_start": base.trade_date.isoformat(),
    }


def market_context(run_date: dt.date) -> dict[str, dict]:
    """Market figures for templates (``market.<CODE>``), read from ``price_bars``.

    Only closes published by :func:`market_cutoff` (``run_date`` at ``MARKET_CUTOFF_TIME``,
    Asia/Shanghai) count, so e.g. run date 2025-04-25 shows closes dated 2025-04-24.

    :param run_date: the content run date (calendar date, Asia/Shanghai).
    :returns: series code → dict with ``name`` (Chinese), ``close`` (last close published
        by the cutoff, unrounded, series unit), ``prev_close`` (the close before it),
        ``change`` (fraction ``close/prev_close - 1``, rounded to 6 decimals),
        ``change_pct`` (``change * 100``, 4 decimals), ``as_of`` / ``prev_as_of`` (ISO
        dates of those closes), ``source`` (e.g. "Yahoo Finance ^HSI"), ``unit``,
        ``period_change_pct`` (percent change over ``PERIOD_TRADING_DAYS`` = 20 trading
        days of that series) and ``period_start`` (ISO date of the base close).
    :raises MarketDataUnavailable: if a series has fewer than two bars published by the
        cutoff or its last one is older than ``MARKET_MAX_STALE_DAYS``.
    """
    context, missing = available_market_context(run_date)
    if missing:
        raise MarketDataUnavailable("; ".join(missing.values()))
    return context


def available_market_context(run_date: dt.date) -> tuple[dict[str, dict], dict[str, str]]:
    """Like ``market_context`` but leaves out series without fresh data instead of raising.

    The daily run uses this so that one stale market only skips the SOPs whose templates
    need it (their render fails on the missing ``market.<CODE>``).

    :returns: ``(context, missing)``: the figures of every available series, and series
        code → reason (English, for logs and the run's JSON) for the others.
    """
    context, missing = {}, {}
    for code in SERIES_CODES:
        try:
            context[code] = _series_context(code, run_date)
        except MarketDataUnavailable as error:
            missing[code] = str(error)
    return context, missing


def series_frame(code: str, run_date: dt.date, window: int) -> pd.DataFrame:
    """The last ``window`` stored bars of one series published by the cutoff, for charts.

    :param code: series code (e.g. ``"GOLD"``).
    :param run_date: content run date; bars published after :func:`market_cutoff` of it
        are left out (same rule as ``market_context``).
    :param window: number of trading days (bars of that series).
    :returns: frame indexed by naive ``trade_date`` (ascending) with float columns
        open/high/low/close/volume (NaN where unknown), series unit.
    :raises MarketDataUnavailable: as ``market_context`` (no bar, or stale).
    """
    bars = _recent_bars(code, run_date, window)
    frame = pd.DataFrame(
        [(bar.open, bar.high, bar.low, bar.close, bar.volume) for bar in bars],
        columns=["open", "high", "low", "close", "volume"],
        index=pd.DatetimeIndex([pd.Timestamp(bar.trade_date) for bar in bars], name="trade_date"),
        dtype="float64",
    )
    return frame
