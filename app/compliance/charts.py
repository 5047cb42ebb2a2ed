"""DATA-02 on our own chart images: source, as-of date, window and labels, from spec and data.

The charts customers see are drawn by ``app.market.charts`` from a spec in ``charts/`` and the
stored bars, so no OCR is needed: what is drawn on the image is known before drawing. The
caller (``app.content``) describes each chart as :class:`ChartFacts` (title, the source line,
the "截至" lines computed from the data, the window in trading days) and
:func:`chart_findings` checks the part of DATA-02 that applies to an image we draw:

- the image carries "数据来源：…" and at least one "截至 YYYY-MM-DD" line;
- the window covers at least the product's minimum (funds and 理财: 6 months ≈ 120 trading
  days, as for performance windows; gold and FX: 20 trading days);
- no cherry-picking label (最高点, 最佳区间, 单日最高) in the title or a label.

A chart a person made elsewhere and pasted as an image is outside this check (there is no
image upload in Zhongtai).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.compliance.findings import Finding, Severity

RULE_ID = "DATA-02"
CITATION = "[AL] 11 (V); [NET] 10(3) \"个别有利时段\" (S)"
#: Minimum window in trading days per product scope (others: no minimum).
MIN_WINDOW_DAYS = {"fund": 120, "wealth": 120, "gold": 20, "fx": 20}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CHERRY = re.compile(r"最高点|最佳区间|单日最高")


@dataclass(frozen=True)
class ChartFacts:
    """What is drawn on one chart image.

    ``as_of`` holds the "截至" lines drawn (``app.market.charts.as_of_lines``), ``window_days``
    the trading days on the axis, ``labels`` any further text drawn (subtitle, legend).
    """

    name: str
    title: str
    source: str
    as_of: tuple[str, ...]
    window_days: int
    labels: tuple[str, ...] = ()


def chart_findings(chart: ChartFacts, product: str | None) -> list[Finding]:
    """DATA-02 findings (severity warn, no offsets) for one chart.

    :param chart: the facts of the image.
    :param product: product scope (``None`` reads most cautiously: the largest minimum).
    :returns: findings without offsets (``start = end = None``), message naming the chart.
    """
    reasons = []
    if not chart.source.strip():
        reasons.append("图中缺少数据来源")
    if not any("截至" in line and _DATE.search(line) for line in chart.as_of):
        reasons.append("图中缺少截至日期")
    minimum = (max(MIN_WINDOW_DAYS.values()) if product is None
               else MIN_WINDOW_DAYS.get(product, 0))
    if chart.window_days < minimum:
        reasons.append(f"图表区间 {chart.window_days} 个交易日，少于 {minimum} 个交易日")
    for text in (chart.title, *chart.labels):
        found = _CHERRY.search(text)
        if found:
            reasons.append(f"图中含“{found.group()}”等选择性标注")
    return [Finding(RULE_ID, Severity.warn, None, None,
                    f"图表 {chart.name}：{reason}（数据来源与截至日期须在图中，区间不得择优）",
                    CITATION) for reason in reasons]
