"""Drawing of the three chart kinds on a ``matplotlib.figure.Figure`` (Agg canvas).

Called by ``app.market.charts.render_chart`` inside its ``rc_context`` (CJK font).
"""

from __future__ import annotations

import unicodedata

import pandas as pd
from matplotlib import dates as mdates
from matplotlib.figure import Figure

from app.market.chart_specs import ChartSpec
from app.market.instruments import get_series

COLORS = ["#c0392b", "#1f77b4", "#2ca02c", "#8e44ad", "#e67e22"]
_TOP_PX = {"rebased": 170, "price_ma": 170, "panels": 210}
_LINE_PX = 30


def _format_dates(ax) -> None:
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=5))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
    ax.margins(x=0.01)
    ax.grid(True, color="#dddddd", linewidth=0.8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _draw_rebased(figure: Figure, spec: ChartSpec, frames: dict[str, pd.DataFrame]) -> str:
    ax = figure.add_subplot()
    closes = {code: frame["close"].iloc[-spec.window:] for code, frame in frames.items()}
    start = max(close.index[0] for close in closes.values())
    closes = {code: close[close.index >= start] for code, close in closes.items()}
    for color, (code, close) in zip(COLORS, closes.items(), strict=False):
        if close.empty:
            continue
        rebased = close / close.iloc[0] * spec.base
        label = f"{get_series(code).name}  {rebased.iloc[-1]:.1f}"
        ax.plot(rebased.index.to_numpy(), rebased.to_numpy(), color=color, linewidth=2.6,
                label=label)
    ax.axhline(spec.base, color="#888888", linewidth=1.2, linestyle="--")
    ax.legend(loc="best", frameon=False)
    _format_dates(ax)
    days = max(len(close) for close in closes.values())  # the window, or fewer if history is short
    return f"近{days}个交易日表现，{start:%Y-%m-%d} = {spec.base:g}"


def _draw_price_ma(figure: Figure, spec: ChartSpec, frames: dict[str, pd.DataFrame]) -> str:
    ax = figure.add_subplot()
    code = spec.series[0]
    series = get_series(code)
    close = frames[code]["close"]
    shown = close.iloc[-spec.window:]
    ax.plot(shown.index.to_numpy(), shown.to_numpy(), color=COLORS[0], linewidth=2.6,
            label=f"收盘价  {shown.iloc[-1]:,.{series.digits}f}")
    for color, days in zip(COLORS[1:], spec.moving_averages, strict=False):
        average = close.rolling(days).mean().iloc[-spec.window:]
        ax.plot(average.index.to_numpy(), average.to_numpy(), color=color, linewidth=1.8,
                label=f"MA{days}")
    ax.set_ylabel(series.unit)
    ax.legend(loc="upper left", frameon=False)
    _format_dates(ax)
    averages = "、".join(f"{days}日" for days in spec.moving_averages)
    return f"近{len(shown)}个交易日收盘价与{averages}均线"


def _draw_panels(figure: Figure, spec: ChartSpec, frames: dict[str, pd.DataFrame]) -> str:
    axes = figure.subplots(len(spec.series), 1, sharex=True, squeeze=False)[:, 0]
    days = 0
    for ax, color, code in zip(axes, COLORS, spec.series, strict=False):
        series = get_series(code)
        close = frames[code]["close"].iloc[-spec.window:]
        days = max(days, len(close))
        ax.plot(close.index.to_numpy(), close.to_numpy(), color=color, linewidth=2.4)
        ax.set_title(f"{series.name}  {close.iloc[-1]:.{series.digits}f}", loc="left")
        _format_dates(ax)
    figure.subplots_adjust(hspace=0.35)
    return f"近{days}个交易日收盘价"


_DRAWERS = {"rebased": _draw_rebased, "price_ma": _draw_price_ma, "panels": _draw_panels}


def draw(figure: Figure, spec: ChartSpec, frames: dict[str, pd.DataFrame]) -> str:
    """Draw the data of ``spec`` on ``figure``.

    :param figure: an empty Agg-backed figure.
    :param spec: the chart spec.
    :param frames: series code → bars frame (naive ``trade_date`` index, ``close`` column).
    :returns: the subtitle describing the window (drawn by ``decorate``).
    """
    return _DRAWERS[spec.kind](figure, spec, frames)


def wrap_text(text: str, width_px: float, font_pt: float, dpi: float = 100) -> list[str]:
    """Split ``text`` into lines that fit ``width_px`` (CJK counted 1 em, others 0.6 em).

    :returns: at least one line.
    """
    em_px = font_pt * dpi / 72
    lines, current, used = [], "", 0.0
    for char in text:
        advance = em_px * (1.0 if unicodedata.east_asian_width(char) in "WF" else 0.6)
        if current and used + advance > width_px:
            lines.append(current)
            current, used = "", 0.0
        current += char
        used += advance
    return [*lines, current]


def decorate(figure: Figure, spec: ChartSpec, subtitle: str, as_of: list[str],
             height_px: int) -> None:
    """Draw title, subtitle, "数据来源：…" and "截至 …" lines; set the margins.

    :param figure: the figure with its axes drawn.
    :param spec: the chart spec (title, source).
    :param subtitle: text under the title.
    :param as_of: lines from ``app.market.charts.as_of_lines``.
    :param height_px: figure height in pixels (to place text in pixel terms).
    """
    width_px = figure.get_figwidth() * figure.dpi
    footer = wrap_text(f"数据来源：{spec.source}", width_px - 80, 13, figure.dpi)
    for line in as_of:
        footer += wrap_text(line, width_px - 80, 13, figure.dpi)
    figure.text(0.04, 1 - 60 / height_px, spec.title, fontsize=26, va="center")
    figure.text(0.04, 1 - 118 / height_px, subtitle, fontsize=15, color="#555555",
                va="center")
    for number, line in enumerate(reversed(footer)):
        figure.text(0.04, (28 + number * _LINE_PX) / height_px, line, fontsize=13,
                    color="#444444", va="center")
    bottom_px = 28 + len(footer) * _LINE_PX + 60
    figure.subplots_adjust(left=0.1, right=0.93, top=1 - _TOP_PX[spec.kind] / height_px,
                           bottom=bottom_px / height_px)
