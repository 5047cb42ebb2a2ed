"""Compliance findings for a template body: the body itself plus a sample rendering.

The rendered text is what customers read, so it is authoritative for rules that
depend on context (required statements, source and as-of date next to figures).
The raw body is checked too, so text hidden in a branch not taken on the sample
date is still caught. Offsets are characters of the body; a finding that exists
only in the rendered text and cannot be located in the body gets ``start = end =
RENDER_ONLY``.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from app.content.compliance import check_text
from app.content.sandbox import TemplateRenderError, render_body

logger = logging.getLogger(__name__)

#: Offset stored for findings seen only in the sample rendering.
RENDER_ONLY = -1
#: Rule id of the blocking finding recorded when the sample rendering fails.
RENDER_RULE_ID = "TPL-RENDER"


@dataclass(frozen=True)
class BodyFinding:
    """One finding to store on a version (offsets in the body, or ``RENDER_ONLY``)."""

    rule_id: str
    severity: str
    start: int
    end: int
    message: str
    citation: str

    @property
    def is_blocking(self) -> bool:
        """True for severity ``block``."""
        return self.severity == "block"


def check_rendered(text: str, product: str | None) -> list:
    """Run the compliance checker on text a customer would read.

    :param text: rendered post text.
    :param product: product category value (e.g. ``"fund"``) or ``None`` (all rules).
    :returns: ``app.content.compliance.Finding`` objects, offsets in ``text``.
    """
    return check_text(text, product)


def findings_for_body(
    body: str, product: str | None, context: dict | None
) -> tuple[list[BodyFinding], dt.date | None]:
    """Findings to store for a template body.

    :param body: template source.
    :param product: product category value or ``None``.
    :param context: a sample context (``rendering.sample_context()``) or ``None`` when
        no market data is stored; then only the body is checked.
    :returns: (findings sorted by start, the sample date used or ``None``). A failed
        sample rendering yields one blocking ``TPL-RENDER`` finding with the safe message.
    """
    body_hits = [_from_finding(f) for f in check_rendered(body, product)]
    if context is None:
        return sorted(body_hits, key=_order), None
    sample_date = dt.date.fromisoformat(context["date"])
    try:
        text = render_body(body, context)
    except TemplateRenderError as error:
        failure = BodyFinding(RENDER_RULE_ID, "block", RENDER_ONLY, RENDER_ONLY,
                              f"示例渲染失败（{sample_date.isoformat()}）：{error.message}"[:255],
                              "模板须能以当日行情完整渲染（缺少任何数值即报错，不留空白）")
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


def _located(finding, text: str, body: str) -> BodyFinding:
    """Map a rendered-text finding to body offsets when its span occurs literally in the body."""
    span = text[finding.start:finding.end]
    position = body.find(span) if span else -1
    if position < 0:
        return _from_finding(finding, RENDER_ONLY, RENDER_ONLY)
    return _from_finding(finding, position, position + len(span))


def _from_finding(finding, start: int | None = None, end: int | None = None) -> BodyFinding:
    return BodyFinding(
        rule_id=str(finding.rule_id)[:16],
        severity=str(finding.severity),
        start=finding.start if start is None else start,
        end=finding.end if end is None else end,
        message=str(finding.message)[:255],
        citation=str(finding.citation or "")[:255],
    )


def _order(finding: BodyFinding) -> tuple:
    return (finding.start, finding.end, finding.rule_id)
