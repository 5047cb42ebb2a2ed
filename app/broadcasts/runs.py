"""Plan runs 计划运行: occurrences as rows, claimed by a conditional UPDATE, finished with a reason.

The scheduler's tick (``app.broadcasts.jobs.tick``) calls these in order: create the coming
occurrences, cancel those of paused plans, mark the ones beyond the downtime grace missed,
claim the due ones, and after running them record each outcome. Every function flushes;
the tick commits each step in its own unit of work.
"""

from __future__ import annotations

import datetime as dt
import logging

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import contains_eager

from app.auth.permissions import Action, require
from app.broadcasts.audience import plans_reaching
from app.broadcasts.models import PlanRun, RunStatus, SchedulerTick, SopPlan
from app.broadcasts.run_day import RunDayResult
from app.broadcasts.schedules import ScheduleError, parse_schedule
from app.broadcasts.services import plan_branch_ids
from app.broadcasts.welcome import plan_occurrences
from app.core.clock import utcnow
from app.core.errors import Conflict, NotFound
from app.core.extensions import db
from app.core.upserts import insert_many_skipping_conflicts, upsert_rows
from app.org.models import User

logger = logging.getLogger(__name__)

#: How far ahead occurrences are created.
LOOKAHEAD = dt.timedelta(days=2)
#: How far back an outage is looked at (older occurrences are never created).
LOOKBACK = dt.timedelta(days=7)
TICK_NAME = "scheduler"


def grace() -> dt.timedelta:
    """Downtime grace: a run due longer ago is missed (``SCHEDULER_MISFIRE_GRACE_SECONDS``)."""
    return dt.timedelta(seconds=current_app.config["SCHEDULER_MISFIRE_GRACE_SECONDS"])


def last_tick() -> SchedulerTick | None:
    """The scheduler's last tick row, or ``None`` before the first tick."""
    return db.session.get(SchedulerTick, TICK_NAME)


def create_occurrences(now: dt.datetime) -> int:
    """Insert a pending run for every occurrence of every active plan, idempotently.

    The window runs from the last tick (at most :data:`LOOKBACK` back, at least the grace
    back) to ``now`` + :data:`LOOKAHEAD`; never before the plan was created. ``after-add``
    plans get a run for their daily check (``app.broadcasts.welcome``).

    :param now: aware instant.
    :returns: the number of occurrences in the window (existing rows are kept as they are).
    """
    tick = last_tick()
    since = min(tick.ticked_at if tick else now, now - grace())
    start, end = max(since, now - LOOKBACK), now + LOOKAHEAD
    rows = []
    for plan in db.session.scalars(select(SopPlan).where(SopPlan.is_active.is_(True),
                                                         SopPlan.archived_at.is_(None))):
        try:
            found = plan_occurrences(parse_schedule(plan.schedule), plan.timezone,
                                     max(start, plan.created_at), end)
        except ScheduleError as error:
            logger.error("plan_id=%s has an invalid schedule %r: %s", plan.id, plan.schedule,
                         error)
            continue
        found = _within_lifecycle(plan, found)
        rows += [{"sop_plan_id": plan.id, "scheduled_at": at.astimezone(dt.UTC),
                  "run_date": at.date(), "due_at": at.astimezone(dt.UTC), "status": "pending",
                  "rule_ids": [], "attempts": 0, "revision": plan.revision, "created_at": now}
                 for at in found]
    insert_many_skipping_conflicts(PlanRun.__table__, rows, ["sop_plan_id", "scheduled_at"])
    return len(rows)


def _within_lifecycle(plan: SopPlan, found: list[dt.datetime]) -> list[dt.datetime]:
    """The occurrences between the plan's start and end dates, and within ``max_runs``."""
    found = [o for o in found if (plan.start_date is None or o.date() >= plan.start_date)
             and (plan.end_date is None or o.date() <= plan.end_date)]
    if plan.max_runs is None:
        return found
    existing = set(db.session.scalars(select(PlanRun.scheduled_at).where(
        PlanRun.sop_plan_id == plan.id, PlanRun.status != RunStatus.cancelled)))
    left = plan.max_runs - len(existing)
    return [o for o in found if o.astimezone(dt.UTC) not in existing][:max(left, 0)]


def cancel_inactive(now: dt.datetime) -> int:
    """Cancel the pending runs of paused or archived plans. :returns: runs cancelled."""
    inactive = select(SopPlan.id).where(SopPlan.is_active.is_(False)
                                        | SopPlan.archived_at.is_not(None))
    return _finish_where(now, RunStatus.cancelled, "plan_inactive", "计划已暂停",
                         PlanRun.status == RunStatus.pending, PlanRun.sop_plan_id.in_(inactive))


def mark_missed(now: dt.datetime) -> int:
    """Mark pending runs due longer ago than the grace as missed. :returns: runs marked."""
    minutes = int(grace().total_seconds() // 60)
    return _finish_where(now, RunStatus.missed, "missed",
                         f"调度器停机，超过补发宽限期（{minutes} 分钟），未发布",
                         PlanRun.status == RunStatus.pending, PlanRun.due_at < now - grace())


def _finish_where(now, status, code, reason, *criteria) -> int:
    result = db.session.execute(update(PlanRun).where(*criteria).values(
        status=status, reason_code=code, reason=reason, finished_at=now)
        .execution_options(synchronize_session=False))
    return result.rowcount


def claim_due(now: dt.datetime, holder: str) -> list[int]:
    """Claim the pending runs due by ``now``: one conditional UPDATE … RETURNING.

    A run another scheduler claimed first no longer matches ``status = 'pending'``, so two
    schedulers (or a restart) never claim one run twice.

    :param holder: the claiming process (host:pid:id).
    :returns: ids of the runs this call claimed.
    """
    result = db.session.execute(
        update(PlanRun).where(PlanRun.status == RunStatus.pending, PlanRun.due_at <= now)
        .values(status=RunStatus.claimed, claimed_by=holder, claimed_at=now,
                attempts=PlanRun.attempts + 1, reason_code=None, reason=None, rule_ids=[])
        .returning(PlanRun.id).execution_options(synchronize_session=False))
    return sorted(result.scalars())


#: ``claimed_by`` prefix of ``flask scheduler tick`` (a run claimed by hand, never orphaned).
CLI_HOLDER_PREFIX = "cli:"


def release_orphaned_claims(now: dt.datetime) -> int:
    """Set back to pending the runs an earlier scheduler process claimed and never finished.

    Call only while holding the scheduler lock and before this process's first tick: every
    scheduler holder that claimed them has then lost the lock, i.e. died or stopped (its
    unit of work that publishes and finishes a run is one transaction, so nothing of such a
    run was published). Runs claimed by ``flask scheduler tick`` are left alone. The next
    tick claims them again (``attempts`` counts both claims); posts and tasks stay unique
    by (plan, date) and (post, staff) in the schema.

    :param now: aware instant (logged only).
    :returns: the number of runs released.
    """
    released = db.session.execute(
        update(PlanRun).where(PlanRun.status == RunStatus.claimed,
                              PlanRun.claimed_by.not_like(f"{CLI_HOLDER_PREFIX}%"))
        .values(status=RunStatus.pending, reason_code=None, reason=None)
        .returning(PlanRun.id).execution_options(synchronize_session=False)).scalars().all()
    if released:
        logger.warning("released runs %s left claimed by a stopped scheduler at %s",
                       sorted(released), now.isoformat())
    return len(released)


def claimed_by_date(run_ids: list[int]) -> dict[dt.date, dict[int, list[int]]]:
    """Claimed runs grouped by run date, then by plan: ``{date: {plan_id: [run ids]}}``."""
    grouped: dict[dt.date, dict[int, list[int]]] = {}
    rows = db.session.execute(select(PlanRun.id, PlanRun.sop_plan_id, PlanRun.run_date)
                              .where(PlanRun.id.in_(run_ids)).order_by(PlanRun.id))
    for run_id, plan_id, run_date in rows:
        grouped.setdefault(run_date, {}).setdefault(plan_id, []).append(run_id)
    return grouped


def finish_runs(runs_by_plan: dict[int, list[int]], result: RunDayResult,
                now: dt.datetime) -> None:
    """Record each claimed run's outcome from the run's result: published or skipped."""
    skipped = {s.sop_plan_id: s for s in result.posts_skipped}
    for plan_id, run_ids in runs_by_plan.items():
        values = {"finished_at": now}
        if plan_id in result.post_ids:
            values |= {"status": RunStatus.published, "post_id": result.post_ids[plan_id]}
        elif plan_id in skipped:
            s = skipped[plan_id]
            values |= {"status": RunStatus.skipped, "reason_code": s.code, "reason": s.reason,
                       "rule_ids": s.rule_ids}
        else:  # the plan is no longer active: nothing was rendered for it
            values |= {"status": RunStatus.cancelled, "reason_code": "plan_inactive",
                       "reason": "计划已暂停"}
        db.session.execute(update(PlanRun).where(PlanRun.id.in_(run_ids),
                                                 PlanRun.status == RunStatus.claimed)
                           .values(**values).execution_options(synchronize_session=False))


def fail_runs(run_ids: list[int], error: Exception, now: dt.datetime) -> None:
    """Mark claimed runs failed with the error's class name (details go to the log)."""
    db.session.execute(update(PlanRun).where(PlanRun.id.in_(run_ids),
                                             PlanRun.status == RunStatus.claimed)
                       .values(status=RunStatus.failed, reason_code="error", finished_at=now,
                               reason=f"运行出错（{type(error).__name__}），详情见调度器日志")
                       .execution_options(synchronize_session=False))


def record_tick(now: dt.datetime, holder: str) -> None:
    """Store ``now`` as the scheduler's last tick."""
    upsert_rows(SchedulerTick.__table__, [{"name": TICK_NAME, "ticked_at": now,
                                           "holder": holder}], ("name",), ("ticked_at", "holder"))


def rerun(editor: User, run_id: int, now: dt.datetime | None = None) -> PlanRun:
    """Queue a skipped or failed run again: pending, due now (the next tick runs it).

    :raises PermissionDenied: unless the policy lets ``editor`` manage plans.
    :raises NotFound: unknown run.
    :raises Conflict: the run is not skipped or failed (e.g. already re-queued).
    """
    require(editor, Action.manage_plans)
    now = now or utcnow()
    run = db.session.get(PlanRun, run_id)
    if run is None:
        raise NotFound("计划运行不存在")
    changed = db.session.execute(
        update(PlanRun).where(PlanRun.id == run_id,
                              PlanRun.status.in_([RunStatus.skipped, RunStatus.failed]))
        .values(status=RunStatus.pending, due_at=now, finished_at=None, claimed_by=None)
        .execution_options(synchronize_session=False)).rowcount
    if not changed:
        raise Conflict("只有已跳过或失败的运行可以重新运行")
    db.session.refresh(run)
    return run


def overdue_runs(now: dt.datetime, slack: dt.timedelta = dt.timedelta(minutes=5)) -> int:
    """Pending runs due more than ``slack`` ago: the scheduler should have claimed them."""
    return db.session.scalar(select(func.count(PlanRun.id)).where(
        PlanRun.status == RunStatus.pending, PlanRun.due_at < now - slack)) or 0


def runs_on_date(viewer: User, run_date: dt.date) -> list[PlanRun]:
    """Every plan run of ``run_date`` (any status) visible to ``viewer``, by scheduled time.

    Managers see the runs of plans reaching their branch subtree (``plan_branch_ids``).

    :raises PermissionDenied: for front-line users.
    """
    require(viewer, Action.read_tracking)
    query = (select(PlanRun).join(SopPlan, PlanRun.sop_plan_id == SopPlan.id)
             .options(contains_eager(PlanRun.sop_plan))
             .where(PlanRun.run_date == run_date)
             .order_by(PlanRun.scheduled_at, PlanRun.id))
    branch_ids = plan_branch_ids(viewer)
    if branch_ids is not None:
        query = query.where(plans_reaching(branch_ids))
    return list(db.session.scalars(query))


def recent_runs(plan_id: int, limit: int = 20) -> list[PlanRun]:
    """The plan's latest runs (any status), newest first, with the revision each followed.

    The caller checked that the viewer may see the plan.
    """
    return list(db.session.scalars(select(PlanRun).where(PlanRun.sop_plan_id == plan_id)
                                   .order_by(PlanRun.scheduled_at.desc()).limit(limit)))
