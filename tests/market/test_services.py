import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import func, select

from app.market.instruments import SERIES_CODES, DerivedSeries, get_series
from app.market.models import PriceBar
from app.market.services import (
    PERIOD_TRADING_DAYS,
    MarketDataUnavailable,
    market_context,
    refresh_market_data,
    series_frame,
)
from tests.market.helpers import csv_rows, last_two_closes

D = dt.date
DIRECT = [code for code in SERIES_CODES if not isinstance(get_series(code), DerivedSeries)]


def bar_count(db, code=None):
    query = select(func.count()).select_from(PriceBar)
    if code:
        query = query.where(PriceBar.series_code == code)
    return db.session.scalar(query)


def test_refresh_is_idempotent_and_bounded_by_history_days(app, db):
    run_date = D(2025, 4, 25)
    first = refresh_market_data(run_date)
    count = bar_count(db)
    assert first == refresh_market_data(run_date)
    assert bar_count(db) == count
    assert set(first) == set(SERIES_CODES)
    assert first["SSE"] == run_date and first["N225"] == run_date
    oldest = db.session.scalar(select(func.min(PriceBar.trade_date)))
    assert oldest >= run_date - dt.timedelta(days=app.config["MARKET_HISTORY_DAYS"])
    expected_sse = sum(1 for d in csv_rows("SSE") if oldest <= d <= run_date)
    assert bar_count(db, "SSE") == expected_sse
    sources = set(db.session.scalars(select(PriceBar.source).distinct()))
    assert sources == {"snapshot"}


def test_refresh_updates_a_changed_bar_instead_of_duplicating(db):
    run_date = D(2025, 4, 25)
    refresh_market_data(run_date)
    bar = db.session.scalar(select(PriceBar).where(
        PriceBar.series_code == "HSI", PriceBar.trade_date == run_date))
    bar.close = 1.0
    db.session.flush()
    refresh_market_data(run_date)
    db.session.expire_all()
    closes = list(db.session.scalars(select(PriceBar.close).where(
        PriceBar.series_code == "HSI", PriceBar.trade_date == run_date)))
    assert closes == [float(csv_rows("HSI")[run_date]["Close"])]


def test_context_for_2025_04_25_equals_snapshot_closes(db):
    run_date = D(2025, 4, 25)
    refresh_market_data(run_date)
    context = market_context(run_date)
    assert set(context) == set(SERIES_CODES)
    for code in DIRECT:
        (prev_day, prev_close), (day, close) = last_two_closes(code, run_date)
        item = context[code]
        assert item["close"] == close and item["prev_close"] == prev_close, code
        assert item["as_of"] == day.isoformat() and item["prev_as_of"] == prev_day.isoformat()
        assert item["change"] == pytest.approx(close / prev_close - 1, abs=5e-7)
        assert item["change_pct"] == pytest.approx(item["change"] * 100, abs=1e-9)
        assert item["source"] == get_series(code).source
    sse = context["SSE"]
    assert sse["name"] == "上证指数" and sse["close"] == 3295.0601
    assert sse["source"] == "Yahoo Finance 000001.SS"
    assert context["HSI"]["source"] == "Yahoo Finance ^HSI"
    assert context["EURCNY"]["close"] == pytest.approx(
        context["EURUSD"]["close"] * context["USDCNY"]["close"], rel=1e-12)


def test_period_change_uses_twenty_trading_days(db):
    run_date = D(2025, 4, 25)
    refresh_market_data(run_date)
    item = market_context(run_date)["GOLD"]
    rows = csv_rows("GOLD")
    days = sorted(d for d in rows if d <= run_date)[-(PERIOD_TRADING_DAYS + 1):]
    base = float(rows[days[0]]["Close"])
    assert item["period_start"] == days[0].isoformat()
    assert item["period_change_pct"] == pytest.approx((item["close"] / base - 1) * 100,
                                                      abs=1e-4)


def test_closed_market_uses_its_last_close(db):
    run_date = D(2025, 1, 29)  # Lunar New Year: Shanghai and Hong Kong closed
    as_of = refresh_market_data(run_date)
    context = market_context(run_date)
    assert as_of["SSE"] == D(2025, 1, 27) and context["SSE"]["as_of"] == "2025-01-27"
    assert context["SSE"]["close"] == float(csv_rows("SSE")[D(2025, 1, 27)]["Close"])
    assert context["HSI"]["as_of"] == "2025-01-28"
    assert context["IXIC"]["as_of"] == "2025-01-29"


def test_context_without_or_with_stale_bars_raises(db):
    with pytest.raises(MarketDataUnavailable, match="no SSE bar"):
        market_context(D(2025, 4, 25))
    refresh_market_data(D(2025, 7, 15))  # HSI/N225 have no rows 2025-04-30 … 2025-09-05
    with pytest.raises(MarketDataUnavailable, match="HSI bar is 2025-04-29, older than 14"):
        market_context(D(2025, 7, 15))


def test_series_frame_returns_last_window_bars(db):
    refresh_market_data(D(2025, 4, 25))
    frame = series_frame("N225", D(2025, 4, 27), 60)
    assert len(frame) == 60 and frame.index.is_monotonic_increasing
    assert frame.index[-1] == pd.Timestamp("2025-04-25")
    assert list(frame.columns) == ["open", "high", "low", "close", "volume"]
    assert frame["close"].iloc[-1] == float(csv_rows("N225")[D(2025, 4, 25)]["Close"])
