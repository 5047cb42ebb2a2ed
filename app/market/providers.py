"""Market-data providers: the bundled snapshot and live Yahoo Finance (yfinance).

Both implement ``daily_bars(code, start, end)`` and return the same frame shape:
a naive ``DatetimeIndex`` named ``trade_date`` (midnight of the exchange-local
session date, weekdays only, sorted, unique) and float columns ``open``, ``high``,
``low``, ``close``, ``volume`` in the series' own unit (see
``app.market.instruments``). Derived series (cross rates) are computed by the
base class from their legs, so every provider supports them.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from abc import ABC, abstractmethod
from functools import lru_cache
from pathlib import Path

import pandas as pd
from flask import current_app

from app.core.errors import DomainError
from app.market.instruments import DerivedSeries, Series, get_series

logger = logging.getLogger(__name__)

COLUMNS = ["open", "high", "low", "close", "volume"]


class MarketDataUnavailable(DomainError):
    """No usable bar for a series (empty download, gap in the snapshot, stale data)."""

    status_code = 503


def normalize_bars(
    frame: pd.DataFrame, start: dt.date | None = None, end: dt.date | None = None
) -> pd.DataFrame:
    """Bring a provider frame to the common shape and clip it to ``[start, end]``.

    :param frame: index of dates/timestamps, OHLCV columns (any case; missing ones → NaN).
    :param start: first trade date kept (inclusive); None = no lower bound.
    :param end: last trade date kept (inclusive); None = no upper bound.
    :returns: float OHLCV frame indexed by naive ``trade_date``; weekend rows, rows
        without a close and duplicate dates (last wins) removed.
    """
    frame = frame.rename(columns=str.lower).reindex(columns=COLUMNS).astype("float64")
    index = pd.DatetimeIndex(frame.index)
    if index.tz is not None:
        index = index.tz_localize(None)
    frame.index = index.normalize().rename("trade_date")
    frame = frame[~frame.index.duplicated(keep="last")].sort_index()
    frame = frame[frame.index.day_of_week < 5].dropna(subset=["close"])
    lower = pd.Timestamp(start) if start else None
    upper = pd.Timestamp(end) if end else None
    return frame.loc[lower:upper]


class MarketDataProvider(ABC):
    """Interface of a daily-bar source. Subclasses implement ``_fetch``.

    An instance remembers what it fetched (per code and range), so a derived series and
    its legs cost one download each; create a new instance per refresh.
    """

    #: Stored in ``price_bars.source``.
    name = "abstract"

    def daily_bars(self, code: str, start: dt.date, end: dt.date) -> pd.DataFrame:
        """Daily bars of one series between two trade dates.

        :param code: series code from ``app.market.instruments`` (e.g. ``"HSI"``).
        :param start: first trade date (inclusive), exchange-local.
        :param end: last trade date (inclusive), exchange-local.
        :returns: frame indexed by ``trade_date`` (naive, exchange-local dates) with float
            columns open/high/low/close/volume; derived series have only ``close``
            (others NaN).
        :raises MarketDataUnavailable: when the source has no bar in the range.
        :raises KeyError: for an unknown series code.
        """
        series = get_series(code)
        memo = self.__dict__.setdefault("_memo", {})
        key = (code, start, end)
        if key not in memo:
            if isinstance(series, DerivedSeries):
                memo[key] = self._derive(series, start, end)
            else:
                memo[key] = self._bars(series, start, end)
        if memo[key].empty:
            raise MarketDataUnavailable(
                f"no {code} bars from {self.name} between {start} and {end}"
            )
        return memo[key].copy()

    @abstractmethod
    def _fetch(self, series: Series, start: dt.date, end: dt.date) -> pd.DataFrame:
        """Raw OHLCV frame of a direct series (any superset of the range)."""

    def _bars(self, series: Series, start: dt.date, end: dt.date) -> pd.DataFrame:
        """The bars of a direct series in ``[start, end]``, in the common shape."""
        return normalize_bars(self._fetch(series, start, end), start, end)

    def _derive(self, series: DerivedSeries, start: dt.date, end: dt.date) -> pd.DataFrame:
        left = self.daily_bars(series.left, start, end)["close"]
        right = self.daily_bars(series.right, start, end)["close"]
        legs = pd.concat([left, right], axis=1, join="inner", keys=["left", "right"])
        if series.operation == "mul":
            close = legs["left"] * legs["right"] * series.factor
        else:
            close = legs["left"] / legs["right"] * series.factor
        frame = pd.DataFrame(index=legs.index, columns=COLUMNS, dtype="float64")
        frame["close"] = close
        return frame


@lru_cache(maxsize=32)
def _read_snapshot_csv(path: str, mtime_ns: int) -> pd.DataFrame:
    frame = pd.read_csv(path, index_col="Date", parse_dates=["Date"])
    return normalize_bars(frame)


class SnapshotProvider(MarketDataProvider):
    """Reads the bundled CSVs in ``MARKET_SNAPSHOT_DIR`` (see its ``SOURCES.md``)."""

    name = "snapshot"

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def _fetch(self, series: Series, start: dt.date, end: dt.date) -> pd.DataFrame:
        path = self.directory / str(series.snapshot_file)
        if not path.is_file():
            raise MarketDataUnavailable(f"snapshot file missing for {series.code}: {path.name}")
        frame = _read_snapshot_csv(str(path), path.stat().st_mtime_ns)
        return frame.loc[pd.Timestamp(start) : pd.Timestamp(end)].copy()

    def _bars(self, series: Series, start: dt.date, end: dt.date) -> pd.DataFrame:
        """The file's bars in ``[start, end]``: normalized once when the file was read."""
        return self._fetch(series, start, end)


def parse_yfinance_frame(raw: pd.DataFrame | None, symbol: str, timezone: str) -> pd.DataFrame:
    """Turn a ``yfinance.download`` result into an OHLCV frame.

    :param raw: yfinance frame; columns either a ``(Price, Ticker)`` MultiIndex or flat.
    :param symbol: the Yahoo symbol to select from the ``Ticker`` level.
    :param timezone: exchange timezone used to turn aware timestamps into local dates.
    :returns: frame with lower-case OHLCV columns indexed by naive local dates (may be empty).
    """
    if raw is None or raw.empty:
        return pd.DataFrame(columns=COLUMNS)
    frame = raw
    if isinstance(frame.columns, pd.MultiIndex):
        tickers = frame.columns.get_level_values(-1)
        if symbol in set(tickers):
            frame = frame.xs(symbol, axis=1, level=-1)
        else:
            frame = frame.droplevel(-1, axis=1)
    index = pd.DatetimeIndex(frame.index)
    if index.tz is not None:
        index = index.tz_convert(timezone).tz_localize(None)
    frame = frame.set_axis(index, axis=0)
    return frame.rename(columns=str.lower).reindex(columns=COLUMNS)


class YFinanceProvider(MarketDataProvider):
    """Live daily bars from Yahoo Finance through ``yfinance.download``.

    Retries ``attempts`` times with exponential backoff (``backoff_seconds`` × 2^n) on an
    exception or an empty answer; yfinance talks to Yahoo through curl_cffi.
    """

    name = "yfinance"

    def __init__(self, attempts: int = 3, backoff_seconds: float = 2.0, timeout: int = 20):
        self.attempts = max(1, attempts)
        self.backoff_seconds = backoff_seconds
        self.timeout = timeout

    def _download(self, symbol: str, start: dt.date, end: dt.date) -> pd.DataFrame | None:
        import yfinance

        return yfinance.download(
            symbol, start=start.isoformat(), end=(end + dt.timedelta(days=1)).isoformat(),
            interval="1d", auto_adjust=False, actions=False, progress=False,
            threads=False, multi_level_index=True, timeout=self.timeout,
        )

    def _fetch(self, series: Series, start: dt.date, end: dt.date) -> pd.DataFrame:
        symbol = str(series.yahoo_symbol)
        for attempt in range(1, self.attempts + 1):
            try:
                frame = parse_yfinance_frame(self._download(symbol, start, end), symbol,
                                             series.timezone)
            except Exception as error:  # network/parse errors from yfinance or curl_cffi
                logger.warning("yfinance %s attempt %s failed: %s", symbol, attempt, error)
                frame = None
            if frame is not None and not frame.dropna(subset=["close"]).empty:
                return frame
            if attempt < self.attempts and self.backoff_seconds > 0:
                time.sleep(self.backoff_seconds * 2 ** (attempt - 1))
        raise MarketDataUnavailable(
            f"yfinance returned no {series.code} ({symbol}) bars after {self.attempts} attempts"
        )


def get_provider() -> MarketDataProvider:
    """The provider named by the app config ``MARKET_DATA_PROVIDER``.

    :returns: ``SnapshotProvider`` for ``"snapshot"`` (reads ``MARKET_SNAPSHOT_DIR``) or
        ``YFinanceProvider`` for ``"yfinance"`` (``MARKET_YFINANCE_ATTEMPTS``,
        ``MARKET_YFINANCE_BACKOFF_SECONDS`` when set).
    :raises ValueError: for any other value, naming the accepted ones.
    """
    config = current_app.config
    choice = str(config.get("MARKET_DATA_PROVIDER") or "").strip().lower()
    if choice == "snapshot":
        return SnapshotProvider(Path(config["MARKET_SNAPSHOT_DIR"]))
    if choice == "yfinance":
        return YFinanceProvider(
            attempts=int(config.get("MARKET_YFINANCE_ATTEMPTS", 3)),
            backoff_seconds=float(config.get("MARKET_YFINANCE_BACKOFF_SECONDS", 2.0)),
        )
    raise ValueError(
        f"MARKET_DATA_PROVIDER must be 'snapshot' or 'yfinance', "
        f"got {config.get('MARKET_DATA_PROVIDER')!r}"
    )
