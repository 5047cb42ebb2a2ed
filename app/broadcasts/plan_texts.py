"""Render once, check once: the texts of one plan for all its front-line staff.

A template that prints ``staff.name`` / ``staff.branch`` only plainly is rendered once,
with markers for the staff fields (``app.content.substitution``); each staff member's text
is those segments with their own fields, byte for byte the text a per-staff render gives.
Compliance checks the plan text once (with the sample signature) plus each substituted
value, once per run (:class:`ValueChecker`). Any other template is rendered per staff
member in one worker call, and each distinct text is checked once.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import NamedTuple

from flask import current_app

from app.compliance import blocking, check_text
from app.content.isolation import render_isolated_many
from app.content.sandbox import SAMPLE_STAFF, TemplateRenderError, build_context
from app.content.substitution import (
    MARKERS,
    compose,
    composed_length_bound,
    prints_staff_fields_only,
    segments_of,
)

#: Joins the substituted values for one screening check (a hard break between values).
_VALUE_SEPARATOR = "\n。\n"


class PlanSkipped(Exception):
    """A plan yields no post today: Chinese ``reason``, ``rule_ids``, ``code`` for the run row.

    Codes: ``not_run_day``, ``template_retired``, ``not_approved``, ``no_staff``,
    ``chart_missing``, ``render_failed``, ``compliance``.
    """

    def __init__(self, reason: str, rule_ids: list[str] | None = None,
                 code: str = "compliance") -> None:
        super().__init__(reason)
        self.reason = reason
        self.rule_ids = rule_ids or []
        self.code = code


class StaffRow(NamedTuple):
    """A receiving front-line user: id, display name, branch name (plain values)."""

    id: int
    name: str
    branch: str

    def fields(self) -> dict[str, str]:
        """The template's ``staff`` entry: ``{"name", "branch"}``."""
        return {"name": self.name, "branch": self.branch}


@dataclass(frozen=True)
class PlanTexts:
    """The rendered texts of one plan (one variant) for ``staff``.

    Either ``segments`` (rendered once; each text is ``compose(segments, staff fields)``)
    or ``bodies`` (one text per staff member, in ``staff`` order) is set.
    """

    staff: list[StaffRow]
    segments: list[str] | None = None
    bodies: list[str] | None = None

    def text_of(self, index: int) -> str:
        """The text of ``staff[index]``."""
        if self.segments is not None:
            return compose(self.segments, self.staff[index].fields())
        return self.bodies[index]


class ValueChecker:
    """Compliance of substituted values (staff names, branch names), each checked once a run.

    All new values are screened in one check of their joined text with every forbidding
    rule (product unknown, the strictest set); only values a finding touches are checked
    again on their own with the plan's product.
    """

    def __init__(self) -> None:
        """Start with nothing screened."""
        self._screened: set[str] = set()
        self._suspects: set[str] = set()
        self._blocked: dict[tuple[str, str], list[str]] = {}

    def blocking_rule_ids(self, values: set[str], product: str) -> list[str]:
        """Rule ids of the blocking findings in any of ``values`` for ``product`` (sorted)."""
        new = values - self._screened
        if new:
            self._suspects |= _screen(sorted(new))
            self._screened |= new
        rule_ids: set[str] = set()
        for value in values & self._suspects:
            key = (value, product)
            if key not in self._blocked:
                self._blocked[key] = sorted({f.rule_id for f in
                                             blocking(check_text(value, product,
                                                                 kinds=["forbid"]))})
            rule_ids.update(self._blocked[key])
        return sorted(rule_ids)


def _screen(values: list[str]) -> set[str]:
    """The values touched by any forbidding finding in their joined text."""
    starts, offset = [], 0
    for value in values:
        starts.append(offset)
        offset += len(value) + len(_VALUE_SEPARATOR)
    findings = check_text(_VALUE_SEPARATOR.join(values), None, kinds=["forbid"])
    suspects = set()
    for finding in findings:
        first = max(bisect.bisect_right(starts, finding.start) - 1, 0)
        last = max(bisect.bisect_right(starts, max(finding.end - 1, finding.start)) - 1, 0)
        suspects.update(values[first:last + 1])
    return suspects


def render_plan_texts(body: str, product: str, context: dict, staff: list[StaffRow],
                      checker: ValueChecker) -> PlanTexts:
    """Render and check one template body for every staff member.

    :param context: ``build_context`` of the run date (market, charts); ``staff`` is replaced.
    :raises PlanSkipped: a render failure (budget breaches included) or a blocking
        compliance finding in the plan text or in a substituted value.
    """
    if prints_staff_fields_only(body):
        [text] = _render(body, [{**context, "staff": dict(MARKERS)}])
        segments = segments_of(text)
        if _fits_output_limit(segments, staff):  # else the per-staff render reports it
            _check_once(segments, product, staff, checker)
            return PlanTexts(staff, segments=segments)
    bodies = _render(body, [{**context, "staff": row.fields()} for row in staff])
    checked: dict[str, list] = {}
    for text in bodies:
        if text not in checked:
            checked[text] = blocking(check_text(text, product))
            _refuse_blocking(checked[text])
    return PlanTexts(staff, bodies=bodies)


def _fits_output_limit(segments: list[str], staff: list[StaffRow]) -> bool:
    limit = current_app.config["RENDER_MAX_OUTPUT_CHARS"]
    longest = {"name": max(map(len, (row.name for row in staff))),
               "branch": max(map(len, (row.branch for row in staff)))}
    return composed_length_bound(segments, longest) <= limit or all(
        len(compose(segments, row.fields())) <= limit for row in staff)


def _check_once(segments, product: str, staff: list[StaffRow], checker: ValueChecker) -> None:
    """The plan text once (sample signature), then each substituted value once per run."""
    _refuse_blocking(blocking(check_text(compose(segments, SAMPLE_STAFF), product)))
    fields = set(segments[1::2])
    values = {row.name for row in staff} if "name" in fields else set()
    if "branch" in fields:
        values |= {row.branch for row in staff}
    rule_ids = checker.blocking_rule_ids(values, product)
    if rule_ids:
        raise PlanSkipped(f"合规检查未通过：{'、'.join(rule_ids)}（客户经理姓名或机构名称）",
                          rule_ids)


def base_context(run_date, market, chart_urls) -> dict:
    """The template context of a run date without staff (market and charts built once)."""
    return build_context(run_date, market, None, chart_urls)


def _render(body: str, contexts: list[dict]) -> list[str]:
    try:
        return render_isolated_many(body, contexts)
    except TemplateRenderError as error:  # over budget, or a worker the kernel had to stop
        raise PlanSkipped(f"渲染失败：{error.message}", code="render_failed") from None


def _refuse_blocking(findings: list) -> None:
    if findings:
        rule_ids = sorted({f.rule_id for f in findings})
        raise PlanSkipped(f"合规检查未通过：{'、'.join(rule_ids)}", rule_ids)
