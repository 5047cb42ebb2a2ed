"""Render once, check once: the texts of one plan (one wording) for its front-line staff.

A template that prints ``staff.name`` / ``staff.branch`` only plainly is rendered once,
with markers for the staff fields (``app.content.substitution``); each staff member's text
is those segments with their own fields, byte for byte the text a per-staff render gives.
Compliance checks the plan text once (with the sample signature; ``check_rendered`` with
the template's content kind and chart) plus each substituted value that was not checked
when its user or branch was saved, once per run (:class:`ValueChecker`). The channel's
text limit (群发 and 客户群 4,000 bytes, 朋友圈 2,000 characters) is checked on the longest
staff text. Any other template is rendered per staff member in one worker call, and each
distinct text is checked once.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import NamedTuple

from flask import current_app

from app.compliance import (
    CHANNEL_LIMITS,
    ChartFacts,
    blocking,
    check_text,
    over_limit,
)
from app.content.checks import check_rendered
from app.content.substitution import (
    MARKERS,
    compose,
    composed_length_bound,
    prints_staff_fields_only,
    segments_of,
)
from app.rendering.isolation import render_isolated_many
from app.rendering.sandbox import SAMPLE_STAFF, TemplateRenderError, build_context

#: Joins the substituted values for one screening check (a hard break between values).
_VALUE_SEPARATOR = "\n。\n"


class PlanSkipped(Exception):
    """A plan yields no post today: Chinese ``reason``, ``rule_ids``, ``code`` for the run row.

    Codes: ``not_run_day``, ``template_retired``, ``not_approved``, ``outside_validity``,
    ``no_staff``, ``chart_missing``, ``stale_market_data``, ``render_failed``,
    ``compliance``, ``channel_limit``.
    """

    def __init__(self, reason: str, rule_ids: list[str] | None = None,
                 code: str = "compliance") -> None:
        super().__init__(reason)
        self.reason = reason
        self.rule_ids = rule_ids or []
        self.code = code


class StaffRow(NamedTuple):
    """A receiving front-line user: id, display name, branch name (plain values).

    ``branch_id`` is the user's own branch (wordings are spread per branch);
    ``name_checked`` / ``branch_checked`` say that the name / branch name passed the
    compliance check when it was saved (``app.compliance.names``), so the run skips it.
    """

    id: int
    name: str
    branch: str
    branch_id: int = 0
    name_checked: bool = False
    branch_checked: bool = False

    def fields(self) -> dict[str, str]:
        """The template's ``staff`` entry: ``{"name", "branch"}``."""
        return {"name": self.name, "branch": self.branch}


@dataclass(frozen=True)
class PlanTexts:
    """The rendered texts of one plan (one wording) for ``staff``.

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


class RuleTarget(NamedTuple):
    """What the compliance check of a plan's texts needs (plain values).

    The template's product category, content kind and channel values, and the facts of the
    chart sent with the text (``app.content.checks.chart_facts``).
    """

    product: str | None
    content_kind: str | None = None
    channel: str | None = None
    charts: tuple[ChartFacts, ...] = ()


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


def render_plan_texts(body: str, target: RuleTarget | str | None, context: dict,
                      staff: list[StaffRow], checker: ValueChecker) -> PlanTexts:
    """Render and check one template body (one wording) for every staff member.

    :param target: the rules to check with (:class:`RuleTarget`), or just a product value.
    :param context: ``build_context`` of the run date (market, charts); ``staff`` is replaced.
    :raises PlanSkipped: a render failure (budget breaches included), a blocking
        compliance finding in the plan text or in a substituted value, or a text over the
        channel's limit.
    """
    if not isinstance(target, RuleTarget):
        target = RuleTarget(target)
    if prints_staff_fields_only(body):
        [text] = _render(body, [{**context, "staff": dict(MARKERS)}])
        segments = segments_of(text)
        if _fits_output_limit(segments, staff):  # else the per-staff render reports it
            _check_once(segments, target, staff, checker)
            if target.channel is not None and _longest_bound(segments, staff, target.channel):
                _refuse_over_limit((compose(segments, row.fields()) for row in staff),
                                   target.channel)
            return PlanTexts(staff, segments=segments)
    bodies = _render(body, [{**context, "staff": row.fields()} for row in staff])
    for text in dict.fromkeys(bodies):
        _refuse_blocking(blocking(_check(text, target)))
    if target.channel is not None:
        _refuse_over_limit(dict.fromkeys(bodies), target.channel)
    return PlanTexts(staff, bodies=bodies)


def _check(text: str, target: RuleTarget) -> list:
    return check_rendered(text, target.product, content_kind=target.content_kind,
                          charts=target.charts)


def _longest_bound(segments: list[str], staff: list[StaffRow], channel: str) -> bool:
    """Whether the longest staff text may exceed the channel's limit (then check each)."""
    limit, unit = CHANNEL_LIMITS[channel]
    size = (lambda text: len(text.encode("utf-8"))) if unit == "bytes" else len
    longest = {"name": max(size(row.name) for row in staff),
               "branch": max(size(row.branch) for row in staff)}
    return sum(size(part) if index % 2 == 0 else longest[part]
               for index, part in enumerate(segments)) > limit


def _refuse_over_limit(texts, channel: str) -> None:
    for text in texts:
        reason = over_limit(text, channel)
        if reason:
            raise PlanSkipped(f"超出渠道字数上限：{reason}", ["CH-LEN"], code="channel_limit")


def _fits_output_limit(segments: list[str], staff: list[StaffRow]) -> bool:
    limit = current_app.config["RENDER_MAX_OUTPUT_CHARS"]
    longest = {"name": max(map(len, (row.name for row in staff))),
               "branch": max(map(len, (row.branch for row in staff)))}
    return composed_length_bound(segments, longest) <= limit or all(
        len(compose(segments, row.fields())) <= limit for row in staff)


def _check_once(segments, target: RuleTarget, staff: list[StaffRow],
                checker: ValueChecker) -> None:
    """The plan text once (sample signature), then each substituted value once per run.

    Names checked when their user or branch was saved are not checked again; the others
    (saved before that check existed, or by a path without it) are, once per run each.
    """
    _refuse_blocking(blocking(_check(compose(segments, SAMPLE_STAFF), target)))
    fields = set(segments[1::2])
    values = {row.name for row in staff if not row.name_checked} if "name" in fields else set()
    if "branch" in fields:
        values |= {row.branch for row in staff if not row.branch_checked}
    rule_ids = checker.blocking_rule_ids(values, target.product) if values else []
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
