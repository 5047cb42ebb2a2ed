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

from app.compliance import Finding, Severity, check_text
from app.content.isolation import render_isolated
from app.content.sandbox import TemplateRenderError

logger = logging.getLogger(__name__)

#: Rule id of the blocking finding recorded when the sample rendering fails.
RENDER_RULE_ID = "TPL-RENDER"
_RULE_ID_CHARS = 16  # ComplianceFinding.rule_id
_TEXT_CHARS = 255  # ComplianceFinding.message and .citation


def check_rendered(text: str, product: str | None) -> list[Finding]:
    """Run the compliance checker on text a customer would read.

    :param text: rendered post text.
    :param product: product category value (e.g. ``"fund"``) or ``None`` (all rules).
    :returns: :class:`app.compliance.Finding` objects, offsets in ``text``.
    """
    return check_text(text, product)


def findings_for_body(
    body: str, product: str | None, context: dict | None
) -> tuple[list[Finding], dt.date | None]:
    """Findings to store for a template body.

    :param body: template source.
    :param product: product category value or ``None``.
    :param context: a sample context (``rendering.sample_context()``) or ``None`` when
        no market data is stored; then only the body is checked.
    :returns: (findings with offsets in ``body`` or ``None`` when only seen in the sample
        rendering, sorted with those first and then by start; the sample date used or
        ``None``). A failed sample rendering, a breach of the render budget included (the
        render runs in a worker process, ``app.content.isolation``), yields one blocking
        ``TPL-RENDER`` finding with the safe message. Texts are cut to the column sizes of
        ``ComplianceFinding``. Reads and renders only: call it before writing anything.
    """
    body_hits = [_storable(f) for f in check_rendered(body, product)]
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
    rendered = check_rendered(text, product)
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
