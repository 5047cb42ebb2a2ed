"""Frequency caps 频次上限: promotional messages a customer would receive per week.

For each customer segment and ISO week (this one and the next ``FREQUENCY_CAP_WEEKS - 1``),
the load is the most promotional posts any customer of that segment would receive across
all active plans: a customer of segment S whose relationship manager sits in branch B gets a
plan's posts when B lies in one of the plan's audience subtrees and the plan has no segments
or lists S. A plan posts at most once per date, so each plan counts its distinct occurrence
dates (within its start/end dates and remaining runs). The load is the worst branch's.
A template counts as promotional when its content kind is in
``FREQUENCY_CAP_PROMOTIONAL_KINDS`` (product promotion by default); the cap is
``FREQUENCY_CAP_PER_WEEK``, overridden per segment code by
``FREQUENCY_CAP_PER_WEEK_BY_SEGMENT``.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import func, select

from app.broadcasts.audience import audiences
from app.broadcasts.models import PlanRun, RunStatus, SopPlan
from app.broadcasts.plan_rules import PlanInput
from app.broadcasts.schedules import ScheduleError, occurrences, parse_schedule
from app.content.models import ContentTemplate
from app.core.clock import business_today
from app.core.extensions import db
from app.customers.models import Segment
from app.org.models import Branch


@dataclass(frozen=True)
class CapPlan:
    """A plan as the cap counts it: its schedule, lifecycle and audience, as plain values."""

    plan_id: int | None
    schedule: str
    timezone: str
    start_date: dt.date | None
    end_date: dt.date | None
    runs_left: int | None
    is_promotional: bool
    branch_paths: tuple[str, ...]
    segment_ids: frozenset[int] = field(default_factory=frozenset)
    #: A plan being created sends from this date (the business date) on; stored and
    #: edited plans count from the week's Monday (they may have sent since then).
    created_on: dt.date | None = None


@dataclass(frozen=True)
class WeekLoad:
    """Promotional posts a customer of ``segment_name`` would receive in the week of ``week``."""

    segment_code: str
    segment_name: str
    week: dt.date  # the Monday
    count: int
    cap: int

    @property
    def is_over(self) -> bool:
        """Whether the count exceeds the cap."""
        return self.count > self.cap


def is_promotional(content_kind) -> bool:
    """Whether a content kind counts against the cap (``FREQUENCY_CAP_PROMOTIONAL_KINDS``)."""
    return content_kind.value in current_app.config["FREQUENCY_CAP_PROMOTIONAL_KINDS"]


def candidate_of(data: PlanInput, template: ContentTemplate, plan_id: int | None) -> CapPlan:
    """The plan ``data`` would make (replacing plan ``plan_id`` when editing)."""
    paths = db.session.scalars(select(Branch.path).where(Branch.id.in_(data.branch_ids)))
    done = _runs_done([plan_id]).get(plan_id, 0) if plan_id else 0
    return CapPlan(plan_id, data.expression, data.timezone, data.start_date, data.end_date,
                   None if data.max_runs is None else max(data.max_runs - done, 0),
                   is_promotional(template.content_kind), tuple(paths),
                   frozenset(data.segment_ids), None if plan_id else business_today())


def active_plans(exclude_id: int | None = None) -> list[CapPlan]:
    """Every active, not archived plan with a promotional template (except ``exclude_id``)."""
    kinds = current_app.config["FREQUENCY_CAP_PROMOTIONAL_KINDS"]
    rows = db.session.execute(
        select(SopPlan).join(ContentTemplate, SopPlan.template_id == ContentTemplate.id)
        .where(SopPlan.is_active.is_(True), SopPlan.archived_at.is_(None),
               ContentTemplate.content_kind.in_(kinds))).scalars().all()
    rows = [plan for plan in rows if plan.id != exclude_id]
    audience = audiences([plan.id for plan in rows])
    done = _runs_done([plan.id for plan in rows])
    return [CapPlan(plan.id, plan.schedule, plan.timezone, plan.start_date, plan.end_date,
                    None if plan.max_runs is None else max(plan.max_runs - done.get(plan.id, 0),
                                                           0),
                    True, tuple(audience[plan.id].branch_paths),
                    frozenset(audience[plan.id].segment_ids))
            for plan in rows]


def _runs_done(plan_ids: list[int]) -> dict[int, int]:
    """Runs that count against ``max_runs`` already (not pending, not cancelled), per plan."""
    if not plan_ids:
        return {}
    return dict(db.session.execute(
        select(PlanRun.sop_plan_id, func.count(PlanRun.id))
        .where(PlanRun.sop_plan_id.in_(plan_ids),
               PlanRun.status.notin_([RunStatus.pending, RunStatus.cancelled]))
        .group_by(PlanRun.sop_plan_id)).all())


def weekly_load(candidate: CapPlan | None = None, today: dt.date | None = None) -> list[WeekLoad]:
    """Per segment and week, the most promotional posts a customer would receive.

    :param candidate: a plan being created or edited: counted instead of its stored state.
    :param today: business date; the weeks start on its Monday.
    :returns: one :class:`WeekLoad` per segment (by position) and week, in order.
    """
    today = today or business_today()
    first = today - dt.timedelta(days=today.weekday())
    weeks = [first + dt.timedelta(weeks=n) for n in range(current_app.config[
        "FREQUENCY_CAP_WEEKS"])]
    plans = active_plans(candidate.plan_id if candidate else None)
    if candidate is not None and candidate.is_promotional:
        plans.append(candidate)
    per_week = [_per_week(plan, first, weeks[-1] + dt.timedelta(days=7), today)
                for plan in plans]
    reach_sets = _reach_sets(plans)
    caps = current_app.config["FREQUENCY_CAP_PER_WEEK_BY_SEGMENT"]
    default_cap = current_app.config["FREQUENCY_CAP_PER_WEEK"]
    loads = []
    for segment_id, code, name in _segments():
        for week in weeks:
            count = max((sum(per_week[i][week] for i in reach
                             if not plans[i].segment_ids or segment_id in plans[i].segment_ids)
                         for reach in reach_sets), default=0)
            loads.append(WeekLoad(code, name, week, count, int(caps.get(code, default_cap))))
    return loads


def _segments() -> list[tuple[int | None, str, str]]:
    rows = db.session.execute(select(Segment.id, Segment.code, Segment.name)
                              .order_by(Segment.position, Segment.id)).all()
    return [tuple(row) for row in rows] or [(None, "all", "全部客户")]


def _per_week(plan: CapPlan, first: dt.date, end: dt.date, today: dt.date) -> Counter:
    """Distinct occurrence dates of ``plan`` in ``[first, end)`` counted per week (Monday).

    ``runs_left`` (``max_runs`` less the runs already made) limits only the dates from
    ``today`` on: this week's past dates are runs already made, counted once.
    """
    start_day = max(d for d in (first, plan.start_date, plan.created_on) if d is not None)
    last_day = min(end - dt.timedelta(days=1), plan.end_date or end)
    if last_day < start_day:
        return Counter()
    try:
        found = occurrences(parse_schedule(plan.schedule), plan.timezone,
                            dt.datetime.combine(start_day, dt.time.min, tzinfo=dt.UTC)
                            - dt.timedelta(days=1),
                            dt.datetime.combine(last_day, dt.time.max, tzinfo=dt.UTC)
                            + dt.timedelta(days=1))
    except ScheduleError:
        return Counter()
    dates = sorted({at.date() for at in found if start_day <= at.date() <= last_day})
    if plan.runs_left is not None:
        dates = ([day for day in dates if day < today]
                 + [day for day in dates if day >= today][:plan.runs_left])
    return Counter(day - dt.timedelta(days=day.weekday()) for day in dates)


def _reach_sets(plans: list[CapPlan]) -> set[frozenset[int]]:
    """The distinct sets of plans (indexes) reaching one branch, over every branch.

    A branch is reached by the plans of the audience roots among its ancestors (the
    prefixes of its materialised path), so each branch costs a few set lookups.
    """
    plans_of_root: dict[str, set[int]] = {}
    for index, plan in enumerate(plans):
        for root in plan.branch_paths:
            plans_of_root.setdefault(root, set()).add(index)
    root_sets = set()
    for path in db.session.scalars(select(Branch.path)):
        parts = path.strip("/").split("/")
        prefixes = ("/" + "/".join(parts[:n]) + "/" for n in range(1, len(parts) + 1))
        root_sets.add(frozenset(p for p in prefixes if p in plans_of_root))
    return {frozenset().union(*(plans_of_root[root] for root in roots)) for roots in root_sets}


def planned_load(data: PlanInput | None, plan_id: int | None = None) -> list[WeekLoad]:
    """The load the plan form shows: with the submitted plan counted when it can be.

    :param data: the submitted plan (replacing plan ``plan_id``), or ``None`` for the
        current load of the active plans.
    :returns: as :func:`weekly_load`; the current load when ``data`` has no approved
        template, no branch or a bad schedule.
    """
    template = db.session.get(ContentTemplate, data.template_id) if data else None
    if template is None or not data.branch_ids:
        return weekly_load()
    try:
        parse_schedule(data.expression)
    except ScheduleError:
        return weekly_load()
    return weekly_load(candidate_of(data, template, plan_id))


def cap_errors(candidate: CapPlan, today: dt.date | None = None) -> dict[str, str]:
    """``{"frequency": message}`` when the candidate pushes a segment's week over its cap.

    Only weeks the candidate adds to count: a cap already exceeded by other plans does not
    block a plan that adds nothing there. The message gives segment, week, count and cap.
    """
    if not candidate.is_promotional:
        return {}
    without = {(w.segment_code, w.week): w.count
               for w in weekly_load(_without(candidate), today)}
    over = [w for w in weekly_load(candidate, today)
            if w.is_over and w.count > without[(w.segment_code, w.week)]]
    if not over:
        return {}
    lines = "；".join(f"客群「{w.segment_name}」{w.week.isoformat()} 当周每位客户将收到 "
                     f"{w.count} 条营销内容，上限 {w.cap} 条" for w in over[:5])
    return {"frequency": f"超过频次上限：{lines}"}


def _without(candidate: CapPlan) -> CapPlan:
    """The candidate as a plan that sends nothing (its stored state left out as well)."""
    return CapPlan(candidate.plan_id, candidate.schedule, candidate.timezone, None, None, 0,
                   False, ())
