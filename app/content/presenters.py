"""Display helpers for content pages: finding highlights inside a body or rendered text."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from app.compliance import Severity, most_severe
from app.content.rendering import chart_spec_names
from app.content.variants import variant_label
from app.market.chart_specs import load_specs
from app.market.instruments import SERIES


@dataclass(frozen=True)
class Segment:
    """A run of text; ``css`` is ``finding-block``/``finding-warn`` for highlighted runs."""

    text: str
    css: str | None = None
    rule_ids: str = ""


def highlight(text: str, findings: Iterable) -> list[Segment]:
    """Split ``text`` into plain and highlighted segments.

    :param text: the body (or rendered text) the offsets refer to.
    :param findings: ``app.compliance.Finding`` or ``ComplianceFinding`` objects (``start``,
        ``end`` in characters, ``severity`` a ``Severity``, ``rule_id``); findings without
        offsets (seen only in a sample rendering), empty spans (missing required statements)
        and out-of-range spans are not highlighted.
    :returns: segments in order; overlapping spans merge, ``block`` wins over ``warn``.
    """
    spans = sorted(
        ((f.start, f.end, f.severity, f.rule_id) for f in findings
         if f.start is not None and f.end is not None and 0 <= f.start < f.end <= len(text)),
        key=lambda span: (span[0], span[1], span[2].rank, span[3]),
    )
    merged: list[list] = []
    for start, end, severity, rule_id in spans:
        if merged and start < merged[-1][1]:
            last = merged[-1]
            last[1] = max(last[1], end)
            last[2] = most_severe((last[2], severity))
            last[3] = last[3] if rule_id in last[3].split() else f"{last[3]} {rule_id}"
        else:
            merged.append([start, end, severity, rule_id])
    segments, cursor = [], 0
    for start, end, severity, rule_ids in merged:
        if start > cursor:
            segments.append(Segment(text[cursor:start]))
        segments.append(Segment(text[start:end], f"finding-{severity.value}", rule_ids))
        cursor = end
    if cursor < len(text):
        segments.append(Segment(text[cursor:]))
    return segments


def finding_counts(findings: Iterable) -> dict[str, int]:
    """How many findings have each severity, keyed by its value: ``{"block": n, "warn": m}``.

    :param findings: ``app.compliance.Finding`` or ``ComplianceFinding`` objects.
    """
    counts = dict.fromkeys((s.value for s in Severity), 0)
    for finding in findings:
        counts[finding.severity.value] += 1
    return counts


def chart_titles() -> dict[str, str]:
    """Chinese title of each chart spec, by spec name (e.g. ``{"gold": "COMEX黄金走势"}``).

    :returns: titles from ``app.market.chart_specs.load_specs()``; a spec name missing from
        the files (or an unreadable spec folder) falls back to the name itself.
    """
    try:
        titles = {spec.name: spec.title for spec in load_specs()}
    except (OSError, ValueError):
        titles = {}
    return {name: titles.get(name, name) for name in chart_spec_names()} | titles


def series_label(code: str) -> str:
    """Chinese name of a market series code (``"EURCNY"`` → ``"欧元/人民币"``); unknown → code."""
    series = SERIES.get(code)
    return series.name if series else code


@dataclass(frozen=True)
class DiffLine:
    """One line of a version comparison: ``kind`` is ``add``, ``delete`` or ``same``."""

    kind: str
    text: str


def body_diff(old: str, new: str) -> list[DiffLine]:
    """Line-by-line comparison of two template bodies (``difflib.ndiff``).

    :param old: the earlier body (e.g. the approved version).
    :param new: the later body (e.g. the version in review).
    :returns: lines in order; ndiff's ``?`` hint lines are dropped. Empty when equal.
    """
    if old == new:
        return []

    kinds = {"+ ": "add", "- ": "delete", "  ": "same"}
    return [DiffLine(kinds[line[:2]], line[2:])
            for line in difflib.ndiff(old.splitlines(), new.splitlines())
            if line[:2] in kinds]


def comparison_base(template, version):
    """The version a reviewer should compare ``version`` with, or ``None``.

    The approved version when it differs from ``version``; otherwise the previous one.
    """
    approved = template.approved_version
    if approved is not None and approved.id != version.id:
        return approved
    earlier = [v for v in template.versions if v.number < version.number]
    return earlier[-1] if earlier else None


@dataclass(frozen=True)
class Wording:
    """One wording 措辞 of a version for display: label, body, its findings and highlights."""

    variant: int
    label: str
    body: str
    findings: list
    segments: list[Segment]


def wordings(version) -> list[Wording]:
    """Every wording of ``version`` (a ``TemplateVersion``) with its own findings, body first."""
    return [Wording(index, variant_label(index), body, version.findings_of(index),
                    highlight(body, version.findings_of(index)))
            for index, body in enumerate(version.bodies)]
