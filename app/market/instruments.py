"""Registry of the market series Zhongtai loads, charts and offers to templates.

Every series has a stable ``code`` (``SSE``, ``HSI`` …) used in ``price_bars``,
in the template context (``market.<CODE>``) and in chart specs. A series is
either *direct* (one Yahoo Finance symbol, one bundled snapshot CSV) or
*derived* from two direct legs on the same trade dates (cross rates).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Series:
    """One daily series.

    ``timezone`` is the exchange (or Yahoo quote) timezone in which ``trade_date``
    is a local date; ``snapshot_file`` is the CSV name inside ``MARKET_SNAPSHOT_DIR``;
    ``digits`` is the number of decimals worth showing to a customer.
    """

    code: str
    yahoo_symbol: str | None
    name: str
    unit: str
    timezone: str
    snapshot_file: str | None
    source: str
    digits: int = 2

    @property
    def is_derived(self) -> bool:
        """True when computed from other series rather than downloaded."""
        return self.yahoo_symbol is None


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


_FX_TZ = "Europe/London"  # Yahoo stamps FX daily bars at 00:00 London time

SERIES: dict[str, Series] = {
    s.code: s
    for s in (
        Series("SSE", "000001.SS", "上证指数", "点", "Asia/Shanghai",
               "sse_composite_000001.SS.csv", "Yahoo Finance 000001.SS"),
        Series("HSI", "^HSI", "恒生指数", "点", "Asia/Hong_Kong",
               "hang_seng_HSI.csv", "Yahoo Finance ^HSI"),
        Series("IXIC", "^IXIC", "纳斯达克综合指数", "点", "America/New_York",
               "nasdaq_composite_IXIC.csv", "Yahoo Finance ^IXIC"),
        Series("N225", "^N225", "日经225", "点", "Asia/Tokyo",
               "nikkei225_N225.csv", "Yahoo Finance ^N225"),
        Series("GSPC", "^GSPC", "标普500", "点", "America/New_York",
               "sp500_GSPC.csv", "Yahoo Finance ^GSPC"),
        Series("GOLD", "GC=F", "COMEX黄金", "美元/盎司", "America/New_York",
               "gold_futures_GC=F.csv", "Yahoo Finance GC=F"),
        Series("USDCNY", "CNY=X", "美元/人民币", "人民币/美元", _FX_TZ,
               "usdcny_CNY=X.csv", "Yahoo Finance CNY=X", digits=4),
        Series("EURUSD", "EURUSD=X", "欧元/美元", "美元/欧元", _FX_TZ,
               "eurusd_EURUSD=X.csv", "Yahoo Finance EURUSD=X", digits=4),
        Series("USDJPY", "JPY=X", "美元/日元", "日元/美元", _FX_TZ,
               "usdjpy_JPY=X.csv", "Yahoo Finance JPY=X", digits=2),
        DerivedSeries("EURCNY", None, "欧元/人民币", "人民币/欧元", _FX_TZ, None,
                      "Yahoo Finance EURUSD=X × CNY=X（推算）", digits=4,
                      left="EURUSD", right="USDCNY", operation="mul"),
        DerivedSeries("JPYCNY", None, "100日元/人民币", "人民币/100日元", _FX_TZ, None,
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
