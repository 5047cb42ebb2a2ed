"""Compliance findings for a template body: the body itself plus a sample rendering.

The rendered text is what customers read, so it is authoritative for rules that
depend on context (required statements, source and as-of date next to figures).
The raw body is checked too, so text hidden in a branch not taken on the sample
date is still caught. Offsets are characters of the body; a finding that exists
only in the rendered text and cannot be located in the body gets ``start = end =
None`` (listed, never highlighted).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging

from app.compliance import ChartFacts, Finding, Severity, check_text
from app.market.chart_specs import load_spec
from app.market.instruments import get_series
from app.rendering.isolation import render_isolated
from app.rendering.sandbox import TemplateRenderError

logger = logging.getLogger(__name__)

#: Rule id of the blocking finding recorded when the sample rendering fails.
RENDER_RULE_ID = "TPL-RENDER"
_RULE_ID_CHARS = 16  # ComplianceFinding.rule_id
_TEXT_CHARS = 255  # ComplianceFinding.message and .citation


def check_rendered(text: str, product: str | None, *, content_kind: str | None = None,
                   channel: str | None = None, charts: tuple[ChartFacts, ...] = ()
                   ) -> list[Finding]:
    """Run the compliance checker on text a customer would read.

    :param text: rendered post text.
    :param product: product category value (e.g. ``"fund"``) or ``None`` (all rules).
    :param content_kind: the template's content kind value (decides the rule scope).
    :param channel: the template's channel value (its text limit is checked).
    :param charts: the chart images sent with the text (:func:`chart_facts`).
    :returns: :class:`app.compliance.Finding` objects, offsets in ``text``.
    """
    return check_text(text, product, content_kind=content_kind, channel=channel, charts=charts)


def chart_facts(spec_name: str | None, context: dict | None) -> tuple[ChartFacts, ...]:
    """What is drawn on a template's chart (DATA-02), from its spec and the context's data.

    :param spec_name: the template's chart spec or ``None``.
    :param context: the render context (``market.<CODE>.as_of``) or ``None``.
    :returns: one :class:`ChartFacts` (the "截至" lines as ``app.market.charts.as_of_lines``
        draws them: one per distinct as-of date) or ``()`` without a chart.
    """
    if not spec_name:
        return ()
    spec = load_spec(spec_name)
    market = (context or {}).get("market", {})
    by_date: dict[str, list[str]] = {}
    for code in spec.series:
        if code in market:
            by_date.setdefault(str(market[code]["as_of"]), []).append(get_series(code).name)
    lines = ([f"截至 {day}" for day in by_date] if len(by_date) == 1 else
             [f"{'、'.join(names)} 截至 {day}" for day, names in sorted(by_date.items())])
    return (ChartFacts(spec.name, spec.title, spec.source, tuple(lines), spec.window),)


def findings_for_body(
    body: str, product: str | None, context: dict | None, *,
    content_kind: str | None = None, channel: str | None = None, chart_spec: str | None = None,
) -> tuple[list[Finding], dt.date | None]:
    """Findings to store for a template body.

    :param body: template source.
    :param product: product category value or ``None``.
    :param context: a sample context (``rendering.sample_context()``) or ``None`` when
        no market data is stored; then only the body is checked.
    :param content_kind: content kind value (rule scope); ``None``: ``product`` decides.
    :param channel: channel value: its text limit is checked on the rendered sample.
    :param chart_spec: chart spec name: DATA-02 is checked on the chart drawn for the sample
        (findings without offsets) and the chart triggers DATA-04.
    :returns: (findings with offsets in ``body`` or ``None`` when only seen in the sample
        rendering, sorted with those first and then by start; the sample date used or
        ``None``). A failed sample rendering, a breach of the render budget included (the
        render runs in a worker process, ``app.rendering.isolation``), yields one blocking
        ``TPL-RENDER`` finding with the safe message. Texts are cut to the column sizes of
        ``ComplianceFinding``. Reads and renders only: call it before writing anything.
    """
    body_hits = [_storable(f) for f in check_rendered(body, product, content_kind=content_kind)]
    if context is None:
        return sorted(body_hits, key=_order), None
    sample_date = dt.date.fromisoformat(context["date"])
    try:
        text = render_isolated(body, context)
    except TemplateRenderError as error:
        failure = _storable(Finding(
            RENDER_RULE_ID, Severity.block, None, None,
            f"示例渲染失败（{sample_date.isoformat()}）：{error.message}",
            "模板须能以当日行情完整渲染（缺少任何数值即报错，不留空白）"))
        return sorted([*body_hits, failure], key=_order), sample_date
    rendered = check_rendered(text, product, content_kind=content_kind, channel=channel,
                              charts=chart_facts(chart_spec, context))
    rendered_rules = {f.rule_id for f in rendered}
    kept = [f for f in body_hits
            if f.rule_id in rendered_rules or body[f.start:f.end] not in text]
    for finding in rendered:
        if any(k.rule_id == finding.rule_id for k in kept):
            continue
        kept.append(_located(finding, text, body))
    return sorted(kept, key=_order), sample_date


def _located(finding: Finding, text: str, body: str) -> Finding:
    """Map a rendered-text finding to body offsets when its span occurs literally in the body."""
    span = text[finding.start:finding.end]
    position = body.find(span) if span else -1
    start, end = (None, None) if position < 0 else (position, position + len(span))
    return dataclasses.replace(_storable(finding), start=start, end=end)


def _storable(finding: Finding) -> Finding:
    """``finding`` with its texts cut to the column sizes of ``ComplianceFinding``."""
    return dataclasses.replace(
        finding, rule_id=finding.rule_id[:_RULE_ID_CHARS], message=finding.message[:_TEXT_CHARS],
        citation=(finding.citation or "")[:_TEXT_CHARS],
    )


def _order(finding: Finding) -> tuple:
    """Findings without offsets (render-only) first, then by span and rule id."""
    located = finding.start is not None
    return (located, finding.start or 0, finding.end or 0, finding.rule_id)
