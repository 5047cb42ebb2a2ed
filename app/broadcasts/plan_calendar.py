"""计划日历: which post goes to whom on which day, and how past runs went.

Past days show the plan runs (status, reason, the revision they ran with); coming days the
runs already created plus the occurrences the scheduler will create, each with the plan's
template, channel and audience (branches, and segments for 群发).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from app.auth.permissions import Action, require
from app.broadcasts.audience import audiences
from app.broadcasts.models import RUN_STATUS_LABELS, PlanRun, RunStatus, SopPlan
from app.broadcasts.schedules import ScheduleError, parse_schedule
from app.broadcasts.services import list_plans
from app.broadcasts.welcome import plan_occurrences
from app.content.models import CHANNEL_LABELS
from app.core.extensions import db
from app.org.models import User


@dataclass(frozen=True)
class CalendarEntry:
    """One occurrence on the plan calendar: a run row (past or created) or a coming one."""

    plan_id: int
    plan_name: str
    template_title: str
    channel_label: str
    audience_label: str
    scheduled_at: dt.datetime
    status: RunStatus | None  # ``None``: coming, not created as a run yet
    reason: str | None = None
    revision: int | None = None

    @property
    def status_label(self) -> str:
        """Chinese status; 计划中 for a coming occurrence."""
        return RUN_STATUS_LABELS[self.status] if self.status else "计划中"


def plan_calendar(viewer: User, first: dt.date, days: int,
                  today: dt.date) -> dict[dt.date, list[CalendarEntry]]:
    """Which plan goes to whom on which day: runs (with status) and coming occurrences.

    :param first: first date (Asia/Shanghai business dates are used as plan-zone dates).
    :param days: number of days shown.
    :param today: the business date; occurrences without a run row are shown from it on.
    :returns: date → entries ordered by time, for every date of the range (empty lists too).
    :raises PermissionDenied: unless ``viewer`` may read plans.
    """
    require(viewer, Action.read_plans)
    last = first + dt.timedelta(days=days - 1)
    calendar: dict[dt.date, list[CalendarEntry]] = {
        first + dt.timedelta(days=n): [] for n in range(days)}
    plans = {plan.id: plan for plan in list_plans(viewer)}
    audience = audiences(list(plans))
    seen = set()
    for run in db.session.scalars(select(PlanRun).where(
            PlanRun.sop_plan_id.in_(list(plans)), PlanRun.run_date.between(first, last))):
        seen.add((run.sop_plan_id, run.scheduled_at))
        calendar[run.run_date].append(_entry(plans[run.sop_plan_id], audience, run.scheduled_at,
                                             run.status, run.reason, run.revision))
    used = _runs_used(list(plans))
    for plan in plans.values():
        coming = [at for at in _coming(plan, first, last, today)
                  if (plan.id, at.astimezone(dt.UTC)) not in seen and at.date() in calendar]
        if plan.max_runs is not None:
            coming = coming[:max(plan.max_runs - used.get(plan.id, 0), 0)]
        for at in coming:
            calendar[at.date()].append(_entry(plan, audience, at.astimezone(dt.UTC)))
    for entries in calendar.values():
        entries.sort(key=lambda entry: (entry.scheduled_at, entry.plan_id))
    return calendar


def _entry(plan: SopPlan, audience, at: dt.datetime, status: RunStatus | None = None,
           reason: str | None = None, revision: int | None = None) -> CalendarEntry:
    return CalendarEntry(plan.id, plan.name, plan.template.title, CHANNEL_LABELS[plan.channel],
                         audience[plan.id].label, at, status, reason,
                         revision if status is not None else plan.revision)


def _coming(plan: SopPlan, first: dt.date, last: dt.date, today: dt.date) -> list[dt.datetime]:
    """Occurrences of an active plan from ``today`` within ``first..last`` and its dates."""
    if not plan.is_active or plan.archived_at is not None:
        return []
    zone = ZoneInfo(plan.timezone)
    start = dt.datetime.combine(max(first, today), dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    try:
        found = plan_occurrences(parse_schedule(plan.schedule), plan.timezone, start, end)
    except ScheduleError:
        return []
    return [at for at in found if (plan.start_date is None or at.date() >= plan.start_date)
            and (plan.end_date is None or at.date() <= plan.end_date)]


def _runs_used(plan_ids: list[int]) -> dict[int, int]:
    """Runs counting against ``max_runs`` (every run not cancelled), per plan."""
    if not plan_ids:
        return {}
    return dict(db.session.execute(
        select(PlanRun.sop_plan_id, func.count(PlanRun.id))
        .where(PlanRun.sop_plan_id.in_(plan_ids), PlanRun.status != RunStatus.cancelled)
        .group_by(PlanRun.sop_plan_id)).all())
