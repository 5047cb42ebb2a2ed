"""Server-side chart of the scorecard's daily series (matplotlib ``Figure`` on the Agg canvas)."""

from __future__ import annotations

import io
import math

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, DateFormatter
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from app.market.fonts import cjk_font
from app.metrics.records import Scorecard

EXECUTION_COLOR = "#b3261e"
ENGAGEMENT_COLOR = "#1f6feb"
MAX_LABELLED_DAYS = 16


def _series(values) -> list[float]:
    return [math.nan if v is None else v * 100 for v in values]


def daily_rates_png(card: Scorecard) -> bytes:
    """Draw daily execution rate 执行率 (left axis) and engagement rate 互动率 (right axis).

    :param card: a scorecard; only ``daily``, ``branch_name``, ``start``, ``end`` are used.
        A day whose rate is undefined (no task or no reach) leaves a gap in its line.
    :returns: PNG bytes (1000×420 px), Chinese title, axis labels and a data-source note.
    """
    figure = Figure(figsize=(10, 4.2), dpi=100)
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    title = f"{card.branch_name} 执行率与互动率（{card.start:%Y-%m-%d} 至 {card.end:%Y-%m-%d}）"
    ax.set_title(title, fontproperties=cjk_font(13))
    dates = [p.run_date for p in card.daily]
    if not dates:
        ax.text(0.5, 0.5, "该区间暂无任务数据", ha="center", va="center",
                transform=ax.transAxes, fontproperties=cjk_font(12))
        ax.set_axis_off()
        return _png(figure)
    lines = _draw_rates(ax, card)
    _date_axis(ax, dates)
    ax.grid(alpha=0.3)
    ax.legend(lines, [line.get_label() for line in lines], loc="lower left", prop=cjk_font(10))
    figure.text(0.01, 0.01, "数据来源：任务执行记录与客户互动事件，按帖子日期统计",
                fontproperties=cjk_font(8), color="#667085")
    figure.autofmt_xdate()
    return _png(figure)


def _draw_rates(ax, card: Scorecard) -> list:
    """Plot execution rate on ``ax`` and engagement rate on a twin axis; return both lines."""
    dates = [p.run_date for p in card.daily]
    execution = ax.plot(dates, _series(p.execution_rate for p in card.daily), marker="o",
                        color=EXECUTION_COLOR, label="执行率（前台·过程）")
    ax.set_ylabel("执行率", fontproperties=cjk_font(11))
    ax.set_ylim(0, 105)
    ax.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    twin = ax.twinx()
    engagement_values = _series(p.engagement_rate for p in card.daily)
    engagement = twin.plot(dates, engagement_values, marker="s",
                           color=ENGAGEMENT_COLOR, label="互动率（中台·结果）")
    twin.set_ylabel("互动率", fontproperties=cjk_font(11))
    top = max((v for v in engagement_values if not math.isnan(v)), default=0.0)
    twin.set_ylim(0, max(top * 1.15, 1.0))  # headroom above the highest point, at least 1 %
    twin.yaxis.set_major_formatter(PercentFormatter(decimals=1))
    return execution + engagement


def _date_axis(ax, dates: list) -> None:
    """One tick per run date for short ranges (never sub-day ticks), automatic otherwise."""
    if len(dates) <= MAX_LABELLED_DAYS:
        ax.set_xticks(dates)
    else:
        ax.xaxis.set_major_locator(AutoDateLocator(minticks=4, maxticks=12))
    ax.xaxis.set_major_formatter(DateFormatter("%m-%d"))


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
