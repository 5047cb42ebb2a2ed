"""Registry of the market series Zhongtai loads, charts and offers to templates.

Every series has a stable ``code`` (``SSE``, ``HSI`` …) used in ``price_bars``,
in the template context (``market.<CODE>``) and in chart specs. A series is
either *direct* (one Yahoo Finance symbol, one bundled snapshot CSV) or
*derived* from two direct legs on the same trade dates (cross rates).

Publication rule: a bar dated ``D`` (exchange-local trade date) exists only once its
session has closed, i.e. at ``D`` ``close_time`` in the series' ``timezone``
(:meth:`Series.published_at`). Content for a run date uses only bars published by
the market cutoff (``app.market.services.market_cutoff``), so an 08:30 Beijing post
never quotes a close that happens later that day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Series:
    """One daily series.

    ``timezone`` is the exchange (or Yahoo quote) timezone in which ``trade_date``
    is a local date; ``close_time`` is the local wall-clock time (in ``timezone``)
    at which the day's close is final, i.e. when a bar becomes usable (``None`` for
    derived series, which are published when their later leg is);
    ``snapshot_file`` is the CSV name inside ``MARKET_SNAPSHOT_DIR``; ``digits`` is
    the number of decimals worth showing to a customer.
    """

    code: str
    yahoo_symbol: str | None
    name: str
    unit: str
    timezone: str
    close_time: dt.time | None
    snapshot_file: str | None
    source: str
    digits: int = 2

    @property
    def is_derived(self) -> bool:
        """True when computed from other series rather than downloaded."""
        return self.yahoo_symbol is None

    def published_at(self, trade_date: dt.date) -> dt.datetime:
        """When the bar dated ``trade_date`` is final and may be shown.

        :param trade_date: exchange-local trade date of the bar.
        :returns: timezone-aware instant ``trade_date`` ``close_time`` in ``timezone``.
        """
        return dt.datetime.combine(trade_date, self.close_time, tzinfo=ZoneInfo(self.timezone))

    def last_published_date(self, cutoff: dt.datetime) -> dt.date:
        """The latest trade date whose bar is published at or before ``cutoff``.

        :param cutoff: timezone-aware instant (e.g. 08:00 Asia/Shanghai on the run date).
        :returns: an exchange-local date; bars dated after it must not be used yet
            (it may be a holiday or weekend: the usable bar is the last one on or before it).
        """
        local = cutoff.astimezone(ZoneInfo(self.timezone))
        day = local.date()
        return day if local.time() >= self.close_time else day - dt.timedelta(days=1)


@dataclass(frozen=True)
class DerivedSeries(Series):
    """A cross rate computed from two legs on the same trade date.

    ``close = numerator_close / denominator_close * factor`` when ``denominator``
    is set, else ``close = left_close * right_close * factor``. Only closes are
    derived (open/high/low/volume are left empty: intraday extremes of two legs
    do not combine).
    """

    left: str = ""
    right: str = ""
    operation: str = "mul"  # "mul": left*right*factor, "div": left/right*factor
    factor: float = 1.0

    def published_at(self, trade_date: dt.date) -> dt.datetime:
        """When both legs' bars dated ``trade_date`` are final (the later of the two).

        :returns: timezone-aware instant.
        """
        return max(get_series(leg).published_at(trade_date) for leg in (self.left, self.right))

    def last_published_date(self, cutoff: dt.datetime) -> dt.date:
        """The latest trade date on which both legs are published by ``cutoff``.

        :returns: the earlier of the legs' ``last_published_date``.
        """
        return min(get_series(leg).last_published_date(cutoff)
                   for leg in (self.left, self.right))


#: Yahoo FX (``CNY=X``, ``EURUSD=X``, ``JPY=X``): quote exchange "CCY", timezone
#: Europe/London; daily bars are stamped 00:00 London and the chart API's regular trading
#: period runs 00:00–23:59 London (``currentTradingPeriod.regular`` = start … start+86340 s,
#: e.g. the ``EUR=X`` chart meta quoted in atreadw1492/yahoo_fin issue #65). So the FX bar
#: dated D covers London day D and is final at 23:59 London (06:59 or 07:59 Beijing, D+1).
_FX_TZ = "Europe/London"
_FX_CLOSE = dt.time(23, 59)
#: Shanghai/Shenzhen close after the 14:57–15:00 closing call auction.
_SSE_CLOSE = dt.time(15, 0)
#: HKEX closing auction session (16:00–16:10) sets the final HSI close.
_HKEX_CLOSE = dt.time(16, 10)
#: Tokyo Stock Exchange afternoon session ends 15:30 (since 2024-11-05; 15:00 before).
_TSE_CLOSE = dt.time(15, 30)
#: Nasdaq / NYSE regular session close (04:00 or 05:00 Beijing the next day).
_US_CLOSE = dt.time(16, 0)
#: CME Globex metals daily session ends 17:00 New York (GC=F's daily bar ends then).
_COMEX_CLOSE = dt.time(17, 0)

SERIES: dict[str, Series] = {
    s.code: s
    for s in (
        Series("SSE", "000001.SS", "上证指数", "点", "Asia/Shanghai", _SSE_CLOSE,
               "sse_composite_000001.SS.csv", "Yahoo Finance 000001.SS"),
        Series("HSI", "^HSI", "恒生指数", "点", "Asia/Hong_Kong", _HKEX_CLOSE,
               "hang_seng_HSI.csv", "Yahoo Finance ^HSI"),
        Series("IXIC", "^IXIC", "纳斯达克综合指数", "点", "America/New_York", _US_CLOSE,
               "nasdaq_composite_IXIC.csv", "Yahoo Finance ^IXIC"),
        Series("N225", "^N225", "日经225", "点", "Asia/Tokyo", _TSE_CLOSE,
               "nikkei225_N225.csv", "Yahoo Finance ^N225"),
        Series("GSPC", "^GSPC", "标普500", "点", "America/New_York", _US_CLOSE,
               "sp500_GSPC.csv", "Yahoo Finance ^GSPC"),
        Series("GOLD", "GC=F", "COMEX黄金", "美元/盎司", "America/New_York", _COMEX_CLOSE,
               "gold_futures_GC=F.csv", "Yahoo Finance GC=F"),
        Series("USDCNY", "CNY=X", "美元/人民币", "人民币/美元", _FX_TZ, _FX_CLOSE,
               "usdcny_CNY=X.csv", "Yahoo Finance CNY=X", digits=4),
        Series("EURUSD", "EURUSD=X", "欧元/美元", "美元/欧元", _FX_TZ, _FX_CLOSE,
               "eurusd_EURUSD=X.csv", "Yahoo Finance EURUSD=X", digits=4),
        Series("USDJPY", "JPY=X", "美元/日元", "日元/美元", _FX_TZ, _FX_CLOSE,
               "usdjpy_JPY=X.csv", "Yahoo Finance JPY=X", digits=2),
        DerivedSeries("EURCNY", None, "欧元/人民币", "人民币/欧元", _FX_TZ, None, None,
                      "Yahoo Finance EURUSD=X × CNY=X（推算）", digits=4,
                      left="EURUSD", right="USDCNY", operation="mul"),
        DerivedSeries("JPYCNY", None, "100日元/人民币", "人民币/100日元", _FX_TZ, None, None,
                      "Yahoo Finance CNY=X ÷ JPY=X × 100（推算）", digits=4,
                      left="USDCNY", right="USDJPY", operation="div", factor=100.0),
    )
}

#: Codes in load order: direct series first, derived ones after their legs.
SERIES_CODES: tuple[str, ...] = tuple(SERIES)


def get_series(code: str) -> Series:
    """Return the registered series ``code``.

    :param code: a series code such as ``"HSI"``.
    :returns: the ``Series`` (or ``DerivedSeries``) definition.
    :raises KeyError: with a readable message when the code is not registered.
    """
    try:
        return SERIES[code]
    except KeyError:
        raise KeyError(f"unknown market series {code!r}; known: {', '.join(SERIES)}") from None
