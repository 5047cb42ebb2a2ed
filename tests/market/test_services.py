import datetime as dt
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from sqlalchemy import event, func, select

from app.market.instruments import SERIES_CODES, DerivedSeries, get_series
from app.market.models import PriceBar
from app.market.services import (
    PERIOD_TRADING_DAYS,
    MarketDataUnavailable,
    market_context,
    market_cutoff,
    refresh_market_data,
    series_frame,
)
from tests.market.helpers import csv_rows, last_two_published, published_days

D = dt.date
DIRECT = [code for code in SERIES_CODES if not isinstance(get_series(code), DerivedSeries)]


def bar_count(db, code=None):
    query = select(func.count()).select_from(PriceBar)
    if code:
        query = query.where(PriceBar.series_code == code)
    return db.session.scalar(query)


def test_refresh_is_idempotent_and_bounded_by_history_days(app, db, no_price_bars):
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


def test_a_refresh_writes_only_new_or_changed_bars(db, time_machine):
    run_date = D(2025, 4, 25)
    time_machine.move_to(dt.datetime(2025, 4, 25, 0, 30, tzinfo=dt.UTC), tick=False)
    refresh_market_data(run_date)  # the session's bars, plus any not yet stored
    first = dict(db.session.execute(select(PriceBar.id, PriceBar.fetched_at)).all())
    changed = db.session.scalar(select(PriceBar).where(
        PriceBar.series_code == "GOLD", PriceBar.trade_date == D(2025, 4, 24)))
    changed.close = 1.0
    db.session.flush()

    time_machine.move_to(dt.datetime(2025, 4, 25, 1, 30, tzinfo=dt.UTC), tick=False)
    statements = []

    def collect(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", collect)
    try:
        refresh_market_data(run_date)
    finally:
        event.remove(db.engine, "before_cursor_execute", collect)
    db.session.expire_all()
    second = dict(db.session.execute(select(PriceBar.id, PriceBar.fetched_at)).all())
    assert second.keys() == first.keys()
    assert {i for i in second if second[i] != first[i]} == {changed.id}
    assert changed.close == float(csv_rows("GOLD")[D(2025, 4, 24)]["Close"])
    assert sum(s.lstrip().upper().startswith("INSERT") for s in statements) == 1


def test_context_for_2025_04_25_equals_published_snapshot_closes(db):
    run_date = D(2025, 4, 25)
    refresh_market_data(run_date)  # stores the bars dated 2025-04-25 too
    context = market_context(run_date)
    assert set(context) == set(SERIES_CODES)
    # at 08:00 Beijing no close dated 04-25 exists yet; the US one of 04-24 does (04:00)
    assert {item["as_of"] for item in context.values()} == {"2025-04-24"}
    for code in DIRECT:
        (prev_day, prev_close), (day, close) = last_two_published(code, run_date)
        item = context[code]
        assert item["close"] == close and item["prev_close"] == prev_close, code
        assert item["as_of"] == day.isoformat() and item["prev_as_of"] == prev_day.isoformat()
        assert item["change"] == pytest.approx(close / prev_close - 1, abs=5e-7)
        assert item["change_pct"] == pytest.approx(item["change"] * 100, abs=1e-9)
        assert item["source"] == get_series(code).source
    sse = context["SSE"]
    assert sse["name"] == "上证指数"
    assert sse["close"] == float(csv_rows("SSE")[D(2025, 4, 24)]["Close"])
    assert sse["source"] == "Yahoo Finance 000001.SS"
    assert context["HSI"]["source"] == "Yahoo Finance ^HSI"
    assert context["EURCNY"]["close"] == pytest.approx(
        context["EURUSD"]["close"] * context["USDCNY"]["close"], rel=1e-12)


def test_period_change_uses_twenty_trading_days(db):
    run_date = D(2025, 4, 25)
    refresh_market_data(run_date)
    item = market_context(run_date)["GOLD"]
    rows = csv_rows("GOLD")
    days = published_days("GOLD", run_date)[-(PERIOD_TRADING_DAYS + 1):]
    base = float(rows[days[0]]["Close"])
    assert item["period_start"] == days[0].isoformat()
    assert item["period_change_pct"] == pytest.approx((item["close"] / base - 1) * 100,
                                                      abs=1e-4)


def test_closed_market_uses_its_last_close(db):
    run_date = D(2025, 1, 29)  # Lunar New Year: Shanghai closed from 01-28, Hong Kong 01-29
    refresh_market_data(run_date)
    context = market_context(run_date)
    assert context["SSE"]["as_of"] == "2025-01-27"
    assert context["SSE"]["close"] == float(csv_rows("SSE")[D(2025, 1, 27)]["Close"])
    assert D(2025, 1, 28) not in csv_rows("SSE")
    assert {code: context[code]["as_of"] for code in ("HSI", "IXIC", "N225", "GOLD", "USDCNY")} \
        == dict.fromkeys(("HSI", "IXIC", "N225", "GOLD", "USDCNY"), "2025-01-28")
    for code in DIRECT:
        assert context[code]["as_of"] == published_days(code, run_date)[-1].isoformat(), code


@pytest.mark.parametrize(("code", "usable_at_0800"), [
    ("SSE", "2025-04-24"), ("HSI", "2025-04-24"), ("N225", "2025-04-24"),
    ("IXIC", "2025-04-24"), ("GSPC", "2025-04-24"), ("GOLD", "2025-04-24"),
    ("USDCNY", "2025-04-24"), ("EURCNY", "2025-04-24"), ("JPYCNY", "2025-04-24"),
])
def test_publication_rule_per_series(app, code, usable_at_0800):
    with app.app_context():
        cutoff = market_cutoff(D(2025, 4, 25))
    assert cutoff.isoformat() == "2025-04-25T08:00:00+08:00"
    series = get_series(code)
    assert series.last_published_date(cutoff).isoformat() == usable_at_0800
    assert series.published_at(D(2025, 4, 25)) > cutoff  # the run date's own bar: not yet
    assert series.published_at(D(2025, 4, 24)) <= cutoff


def test_sse_bar_of_the_day_is_not_usable_in_the_morning_but_the_us_bar_before_is():
    morning = dt.datetime(2025, 4, 25, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    sse, ixic = get_series("SSE"), get_series("IXIC")
    assert sse.published_at(D(2025, 4, 25)) == morning.replace(hour=15)
    assert sse.last_published_date(morning) == D(2025, 4, 24)
    assert sse.last_published_date(morning.replace(hour=15)) == D(2025, 4, 25)
    # Nasdaq 2025-04-24 closes 16:00 New York (EDT) = 04:00 Beijing on 04-25
    assert ixic.published_at(D(2025, 4, 24)) == morning.replace(hour=4)
    assert ixic.last_published_date(morning) == D(2025, 4, 24)
    assert ixic.last_published_date(morning.replace(hour=3, minute=59)) == D(2025, 4, 23)
    # FX (Yahoo, London day) and its derived pairs: the later leg decides
    usdcny, eurcny = get_series("USDCNY"), get_series("EURCNY")
    assert usdcny.published_at(D(2025, 4, 24)) == morning.replace(hour=6, minute=59)
    assert eurcny.published_at(D(2025, 4, 24)) == usdcny.published_at(D(2025, 4, 24))


def test_cutoff_time_setting_is_respected(app, db, monkeypatch):
    run_date = D(2025, 4, 25)
    refresh_market_data(run_date)
    monkeypatch.setitem(app.config, "MARKET_CUTOFF_TIME", dt.time(16, 30))  # after Asian closes
    context = market_context(run_date)
    frame = series_frame("SSE", run_date, 5)
    monkeypatch.setitem(app.config, "MARKET_CUTOFF_TIME", dt.time(8, 0))
    late = dt.time(16, 30)
    for code in ("SSE", "HSI", "N225", "IXIC", "GOLD", "USDCNY"):
        assert context[code]["as_of"] == published_days(code, run_date, late)[-1].isoformat()
    assert context["SSE"]["as_of"] == context["HSI"]["as_of"] == "2025-04-25"
    assert context["IXIC"]["as_of"] == "2025-04-24"  # New York is still at 04:30 on 04-25
    assert frame.index[-1] == pd.Timestamp("2025-04-25")
    assert market_context(run_date)["SSE"]["as_of"] == "2025-04-24"


def test_context_without_or_with_stale_bars_raises(db, no_price_bars):
    with pytest.raises(MarketDataUnavailable, match="no SSE bar"):
        market_context(D(2025, 4, 25))
    refresh_market_data(D(2025, 7, 15))  # HSI/N225 have no rows 2025-04-30 … 2025-09-05
    with pytest.raises(MarketDataUnavailable, match="HSI bar is 2025-04-29, older than 14"):
        market_context(D(2025, 7, 15))


def test_series_frame_returns_last_window_published_bars(db):
    refresh_market_data(D(2025, 4, 28))
    frame = series_frame("N225", D(2025, 4, 28), 60)  # Monday 08:00: Friday's close is last
    assert len(frame) == 60 and frame.index.is_monotonic_increasing
    assert frame.index[-1] == pd.Timestamp("2025-04-25")
    assert list(frame.columns) == ["open", "high", "low", "close", "volume"]
    assert frame["close"].iloc[-1] == float(csv_rows("N225")[D(2025, 4, 25)]["Close"])
    assert list(frame.index.date) == published_days("N225", D(2025, 4, 28))[-60:]
