"""Coverage charts (matplotlib ``Figure`` on Agg): sub-branch × segment heat map, trend lines."""

from __future__ import annotations

import io
import math

from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, DateFormatter
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from app.customers.coverage import CoverageRow
from app.market.fonts import cjk_font


def coverage_heatmap_png(title: str, branches: list[tuple[str, str]], segments: dict[str, str],
                         cells: list[CoverageRow]) -> bytes:
    """Draw coverage rate per sub-branch (rows) and segment (columns), each cell labelled.

    :param title: chart title (Chinese), e.g. 杭州分行 覆盖率（2025-04-25）.
    :param branches: (branch code, name) per row, top to bottom.
    :param segments: segment code → Chinese name, left to right.
    :param cells: branch rows of ``branch_coverage`` (``key`` = branch code); a missing cell
        (no customers) is grey and labelled “—”.
    :returns: PNG bytes, about 900 px wide, 60 px per branch.
    """
    rates = {(c.key, c.segment): c for c in cells}
    grid = [[rates[(code, s)].coverage_rate if (code, s) in rates else math.nan
             for s in segments] for code, _ in branches]
    figure, ax = _figure(title, 9, 1.6 + 0.6 * max(len(branches), 1))
    if not branches:
        return _empty(figure, ax, "暂无客户数据")
    cmap = colormaps["RdYlGn"].with_extremes(bad="#e5e7eb")
    image = ax.imshow(grid, cmap=cmap, vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(segments)), list(segments.values()), fontproperties=cjk_font(11))
    ax.set_yticks(range(len(branches)), [name for _, name in branches],
                  fontproperties=cjk_font(11))
    for y, (code, _) in enumerate(branches):
        for x, segment in enumerate(segments):
            cell = rates.get((code, segment))
            text = ("—" if cell is None
                    else f"{cell.coverage_rate:.0%}\n{cell.covered}/{cell.customers}")
            ax.text(x, y, text, ha="center", va="center", fontsize=9)
    colorbar = figure.colorbar(image, ax=ax, format=lambda v, _: f"{v:.0%}")
    colorbar.set_label("覆盖率", fontproperties=cjk_font(10))
    figure.text(0.01, 0.01,
                "覆盖率 = 已添加且完成实名认证、仍由管户客户经理跟进的客户 ÷ 管户客户",
                fontproperties=cjk_font(8), color="#667085")
    figure.tight_layout(rect=(0, 0.04, 1, 1))
    return _png(figure)


def coverage_trend_png(title: str, points: list[dict], segments: dict[str, str]) -> bytes:
    """Draw coverage rate per segment over days, one line per segment.

    :param title: chart title (Chinese), e.g. 杭州分行 覆盖率趋势（近 30 日）.
    :param points: ``coverage_trend`` rows ``{"date", "segment", "coverage_rate", …}``; a day
        without a snapshot leaves a gap in the dates, a segment without customers no point.
    :param segments: segment code → Chinese name (legend, in this order).
    :returns: PNG bytes (900×360 px), percent axis 0–100 %, a data-source note.
    """
    figure, ax = _figure(title, 9, 3.6)
    if not points:
        return _empty(figure, ax, "暂无每日快照")
    for code, name in segments.items():
        series = [(p["date"], p["coverage_rate"] * 100) for p in points
                  if p["segment"] == code and p["coverage_rate"] is not None]
        if series:
            ax.plot([d for d, _ in series], [v for _, v in series], marker="o", markersize=3,
                    label=name)
    ax.set_ylim(0, 100)
    ax.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    ax.xaxis.set_major_locator(AutoDateLocator(minticks=3, maxticks=10))
    ax.xaxis.set_major_formatter(DateFormatter("%m-%d"))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", prop=cjk_font(10), ncols=len(segments))
    figure.text(0.01, 0.01, "数据来源：每日日终覆盖率快照", fontproperties=cjk_font(8),
                color="#667085")
    figure.tight_layout(rect=(0, 0.04, 1, 1))
    return _png(figure)


def _figure(title: str, width: float, height: float):
    figure = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    ax.set_title(title, fontproperties=cjk_font(13))
    return figure, ax


def _empty(figure: Figure, ax, message: str) -> bytes:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes,
            fontproperties=cjk_font(12))
    ax.set_axis_off()
    return _png(figure)


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
