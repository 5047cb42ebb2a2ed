"""Scheduler jobs: module-level functions that take ids, never ORM objects.

``run_sop_job(sop_plan_id)`` fires at a plan's send time and calls the same
``run_day`` as ``flask ops run-day``; ``sync_sop_jobs`` keeps one cron job per
active plan in the job store (ids ``sop:<id>``).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select

from app.broadcasts.calendars import cron_day_of_week
from app.broadcasts.models import SopPlan
from app.broadcasts.run_day import RunDayResult, market_step, publish_plans, render_plans
from app.core.clock import business_today
from app.core.extensions import db
from app.core.unit_of_work import unit_of_work

logger = logging.getLogger(__name__)
_APP = None
_SCHEDULER = None


def bind_app(app, scheduler=None) -> None:
    """Give jobs the Flask app (and the running scheduler) they work with.

    Called once by ``flask scheduler run`` before the scheduler starts.
    """
    global _APP, _SCHEDULER
    _APP, _SCHEDULER = app, scheduler


def in_app_context(job=None, *, own_units: bool = False):
    """Run ``job`` inside an app context; commit on success, roll back on error, always remove.

    :param own_units: the job commits its own units of work (``unit_of_work()`` blocks)
        instead of being one unit itself.
    """
    if job is None:
        return functools.partial(in_app_context, own_units=own_units)

    @functools.wraps(job)
    def wrapper(*args, **kwargs):
        if _APP is None:
            raise RuntimeError("scheduler jobs need bind_app(app) first")
        with _APP.app_context():
            try:
                if own_units:
                    return job(*args, **kwargs)
                with unit_of_work():
                    return job(*args, **kwargs)
            except Exception:
                logger.exception("job %s%s failed", job.__name__, args)
                raise
            finally:
                db.session.remove()

    return wrapper


def run_day_in_steps(run_date: dt.date, sop_plan_ids: list[int] | None = None) -> RunDayResult:
    """``run_day`` as three steps, none of which holds a write transaction while rendering.

    1. the market step (bars, charts) in its own unit of work, committed;
    2. render and check every plan: reads only (on SQLite no write lock is held, so front-line
       staff can mark tasks done meanwhile);
    3. insert the posts and tasks in a second unit of work, committed.

    Needs an app context and a session without pending changes.

    :returns: the same result as ``run_day``.
    """
    with unit_of_work():
        day = market_step(run_date)
    rendered = render_plans(day, sop_plan_ids)
    with unit_of_work():
        return publish_plans(day, rendered)


def job_id(sop_plan_id: int) -> str:
    """Stable job id of a plan."""
    return f"sop:{sop_plan_id}"


@in_app_context(own_units=True)
def run_sop_job(sop_plan_id: int):
    """Run today's content for one plan (business date in the plan's timezone)."""
    result = run_day_in_steps(business_today(), [sop_plan_id])
    logger.info("sop job plan_id=%s: %s", sop_plan_id, result.as_dict())
    return result.as_dict()


def plan_trigger(plan: SopPlan) -> CronTrigger:
    """Cron trigger at the plan's send time in its timezone (run days filtered in ``run_day``)."""
    return CronTrigger(day_of_week=cron_day_of_week(plan.calendar), hour=plan.send_time.hour,
                       minute=plan.send_time.minute, timezone=plan.timezone)


def sync_plans(scheduler) -> dict[str, int]:
    """Make the job store hold exactly one job per active plan.

    :returns: counts ``{"scheduled": n, "removed": m}``.
    """
    plans = list(db.session.scalars(select(SopPlan).where(SopPlan.is_active.is_(True))))
    wanted = {job_id(plan.id): plan for plan in plans}
    for jid, plan in wanted.items():
        scheduler.add_job(run_sop_job, plan_trigger(plan), args=[plan.id], id=jid,
                          name=plan.name, replace_existing=True)
    removed = 0
    for job in scheduler.get_jobs():
        if job.id.startswith("sop:") and job.id not in wanted:
            scheduler.remove_job(job.id)
            removed += 1
    return {"scheduled": len(wanted), "removed": removed}


@in_app_context
def sync_sop_jobs():
    """Periodic job: re-sync plans into the running scheduler (picks up plan edits)."""
    counts = sync_plans(_SCHEDULER)
    logger.debug("sop sync: %s", counts)
    return counts
