"""Scheduler jobs: module-level functions that take plain values, never ORM objects.

``tick_job`` runs every minute in ``flask scheduler run``; the ``plan_runs`` rows decide
what runs (``app.broadcasts.runs``). ``run_day_in_steps`` is the daily run of
``flask ops run-day``, with the market step and the posts in their own units of work.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging

from app.broadcasts import runs
from app.broadcasts.run_day import (
    RunDayResult,
    market_step,
    publish_plans,
    render_plans,
    stored_market_day,
)
from app.core.clock import utcnow
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


def tick(holder: str, now: dt.datetime | None = None) -> dict[str, int]:
    """One scheduler tick: the database decides what runs.

    1. create the coming occurrences (idempotent), cancel those of paused plans, mark the
       ones beyond the downtime grace missed, record the tick: one unit of work;
    2. claim the due runs with a conditional UPDATE: committed at once, so another
       scheduler or a restart never claims them again;
    3. per run date: the market step once (skipped when that date's charts are stored),
       render every claimed plan without a write transaction, then publish and record each
       run's outcome (published or skipped, with reason) in one unit of work. An error fails
       that date's runs with the reason and the next date goes on.

    Needs an app context.

    :param holder: this scheduler process (host:pid:id), stored in ``claimed_by``.
    :param now: aware instant of the tick (default: now).
    :returns: counts ``{"created", "cancelled", "missed", "claimed", "published", "failed"}``.
    """
    now = now or utcnow()
    counts = dict.fromkeys(("created", "cancelled", "missed", "claimed", "published",
                            "failed"), 0)
    with unit_of_work():
        counts["created"] = runs.create_occurrences(now)
        counts["cancelled"] = runs.cancel_inactive(now)
        counts["missed"] = runs.mark_missed(now)
        runs.record_tick(now, holder)
    with unit_of_work():
        claimed = runs.claim_due(now, holder)
    counts["claimed"] = len(claimed)
    for run_date, by_plan in runs.claimed_by_date(claimed).items():
        run_ids = [run_id for ids in by_plan.values() for run_id in ids]
        try:
            result = _run_claimed(run_date, by_plan, now)
        except Exception as error:  # noqa: BLE001 - recorded on the runs, logged in full
            logger.exception("tick: runs %s of %s failed", run_ids, run_date)
            with unit_of_work():
                runs.fail_runs(run_ids, error, now)
            counts["failed"] += len(run_ids)
        else:
            counts["published"] += len(result.post_ids)
    logger.info("tick %s holder=%s: %s", now.isoformat(), holder, counts)
    return counts


def _run_claimed(run_date: dt.date, by_plan: dict[int, list[int]], now: dt.datetime):
    day = stored_market_day(run_date)
    if day is None:
        with unit_of_work():
            day = market_step(run_date)
    rendered = render_plans(day, list(by_plan))
    with unit_of_work():
        result = publish_plans(day, rendered)
        runs.finish_runs(by_plan, result, now)
    return result


@in_app_context(own_units=True)
def tick_job(holder: str) -> dict[str, int]:
    """The scheduler's per-minute job: :func:`tick` in its own app context."""
    return tick(holder)


@in_app_context
def release_orphans_job() -> int:
    """At scheduler start, under its lock: queue again the runs a dead scheduler left claimed.

    :returns: the number of runs set back to pending (``runs.release_orphaned_claims``).
    """
    return runs.release_orphaned_claims(utcnow())
