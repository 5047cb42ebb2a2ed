import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
import yfinance

from app.market.providers import (
    COLUMNS,
    MarketDataUnavailable,
    SnapshotProvider,
    YFinanceProvider,
    get_provider,
)
from tests.market.helpers import FIXTURES, SNAPSHOT_DIR, csv_close, csv_rows

D = dt.date


def recorded_download() -> pd.DataFrame:
    """What ``yfinance.download('^HSI', ...)`` returned, as saved with ``to_csv``."""
    return pd.read_csv(FIXTURES / "yf_download_HSI.csv", header=[0, 1], index_col=0,
                       parse_dates=True)


@pytest.fixture
def snapshot():
    return SnapshotProvider(SNAPSHOT_DIR)


def test_snapshot_returns_exact_csv_closes(snapshot):
    frame = snapshot.daily_bars("SSE", D(2025, 4, 21), D(2025, 4, 25))
    assert list(frame.columns) == COLUMNS
    assert frame.index.name == "trade_date"
    assert all(dtype == "float64" for dtype in frame.dtypes)
    assert frame.loc["2025-04-25", "close"] == csv_close("SSE", D(2025, 4, 25)) == 3295.0601
    assert [d.date() for d in frame.index] == [D(2025, 4, d) for d in (21, 22, 23, 24, 25)]
    hsi = snapshot.daily_bars("HSI", D(2025, 4, 25), D(2025, 4, 25))
    assert hsi["close"].iloc[0] == csv_close("HSI", D(2025, 4, 25))
    gold = snapshot.daily_bars("GOLD", D(2026, 3, 6), D(2026, 3, 6))
    assert gold["close"].iloc[0] == csv_close("GOLD", D(2026, 3, 6))


def test_snapshot_range_is_inclusive_and_skips_closed_days(snapshot):
    frame = snapshot.daily_bars("SSE", D(2025, 1, 27), D(2025, 2, 5))
    assert [d.date() for d in frame.index] == [D(2025, 1, 27), D(2025, 2, 5)]


def test_derived_pairs_use_same_date_legs(snapshot):
    day = D(2025, 4, 25)
    eur = snapshot.daily_bars("EURCNY", day, day)
    jpy = snapshot.daily_bars("JPYCNY", day, day)
    usdcny, eurusd, usdjpy = (csv_close(c, day) for c in ("USDCNY", "EURUSD", "USDJPY"))
    assert eur["close"].iloc[0] == pytest.approx(eurusd * usdcny, rel=1e-12)
    assert jpy["close"].iloc[0] == pytest.approx(usdcny / usdjpy * 100, rel=1e-12)
    assert eur[["open", "high", "low", "volume"]].isna().all().all()
    legs = set(csv_rows("EURUSD")) & set(csv_rows("USDCNY"))
    span = snapshot.daily_bars("EURCNY", D(2025, 1, 1), D(2025, 3, 31))
    expected = {d for d in legs if D(2025, 1, 1) <= d <= D(2025, 3, 31)}
    assert {d.date() for d in span.index} == expected


def test_snapshot_without_bars_raises(snapshot, tmp_path):
    with pytest.raises(MarketDataUnavailable, match="no HSI bars"):
        snapshot.daily_bars("HSI", D(2025, 6, 1), D(2025, 6, 30))  # known gap
    with pytest.raises(MarketDataUnavailable, match="snapshot file missing"):
        SnapshotProvider(tmp_path).daily_bars("SSE", D(2025, 4, 1), D(2025, 4, 25))


def test_yfinance_provider_parses_the_multiindex_download(monkeypatch):
    calls = []

    def fake_download(tickers, **kwargs):
        calls.append((tickers, kwargs))
        return recorded_download()

    monkeypatch.setattr(yfinance, "download", fake_download)
    frame = YFinanceProvider(backoff_seconds=0).daily_bars("HSI", D(2026, 3, 2), D(2026, 3, 6))
    assert calls[0][0] == "^HSI"
    assert calls[0][1]["start"] == "2026-03-02" and calls[0][1]["end"] == "2026-03-07"
    assert calls[0][1]["multi_level_index"] is True and calls[0][1]["progress"] is False
    assert list(frame.columns) == COLUMNS
    assert frame.loc["2026-03-06", "close"] == 25757.2890625
    assert frame.loc["2026-03-06", "open"] == 25358.560546875
    assert frame.loc["2026-03-06", "volume"] == 3669800000
    assert len(frame) == 5


def test_yfinance_provider_converts_aware_timestamps_to_exchange_dates(monkeypatch):
    raw = recorded_download()
    raw.index = raw.index.tz_localize("Asia/Hong_Kong").tz_convert("UTC")  # 2026-03-05 16:00Z
    monkeypatch.setattr(yfinance, "download", lambda *a, **k: raw)
    frame = YFinanceProvider(backoff_seconds=0).daily_bars("HSI", D(2026, 3, 6), D(2026, 3, 6))
    assert frame.index[0] == pd.Timestamp("2026-03-06")


def test_yfinance_provider_retries_then_gives_up(monkeypatch):
    answers = [RuntimeError("curl: (28) timeout"), pd.DataFrame(), recorded_download()]

    def flaky(*args, **kwargs):
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(yfinance, "download", flaky)
    frame = YFinanceProvider(attempts=3, backoff_seconds=0).daily_bars(
        "HSI", D(2026, 3, 6), D(2026, 3, 6))
    assert frame["close"].iloc[0] == 25757.2890625 and answers == []

    monkeypatch.setattr(yfinance, "download", lambda *a, **k: pd.DataFrame())
    with pytest.raises(MarketDataUnavailable, match="after 2 attempts"):
        YFinanceProvider(attempts=2, backoff_seconds=0).daily_bars(
            "HSI", D(2026, 3, 6), D(2026, 3, 6))


def test_get_provider_follows_config(app, monkeypatch):
    with app.app_context():
        monkeypatch.setitem(app.config, "MARKET_DATA_PROVIDER", "snapshot")
        provider = get_provider()
        assert isinstance(provider, SnapshotProvider)
        assert provider.directory == Path(app.config["MARKET_SNAPSHOT_DIR"])
        monkeypatch.setitem(app.config, "MARKET_DATA_PROVIDER", "yfinance")
        assert isinstance(get_provider(), YFinanceProvider)
        monkeypatch.setitem(app.config, "MARKET_DATA_PROVIDER", "bloomberg")
        with pytest.raises(ValueError, match="'snapshot' or 'yfinance'.*bloomberg"):
            get_provider()
