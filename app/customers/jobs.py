"""Scheduler jobs of the customers package: coverage snapshots, stalled-import requeue.

``imports-requeue`` runs every 10 minutes: web imports whose worker died are queued again
(``app.customers.uploads.requeue_stalled``).

``coverage-snapshot`` runs at ``COVERAGE_SNAPSHOT_TIME`` (00:30 Asia/Shanghai) every day,
and once when ``flask scheduler run`` starts, so a scheduler that was down catches up. It
takes every missing day's snapshot up to a week back (``snapshots.due_dates``), each day
in its own unit of work. Taking a date twice overwrites it, so a rerun is harmless.
"""

from __future__ import annotations

import datetime as dt
import logging

from apscheduler.triggers.cron import CronTrigger
from flask import Flask

from app.core.clock import business_today, utcnow
from app.core.extensions import db
from app.core.unit_of_work import unit_of_work
from app.customers.snapshots import due_dates, take_snapshot
from app.customers.uploads import requeue_stalled

logger = logging.getLogger(__name__)
JOB_ID = "coverage-snapshot"
REQUEUE_JOB_ID = "imports-requeue"
REQUEUE_EVERY_MINUTES = 10


def take_due_snapshots(today: dt.date) -> list[dt.date]:
    """Take the snapshot of every day before ``today`` that has none (a week back at most).

    Needs an app context; commits one unit of work per date.

    :param today: the business date (Asia/Shanghai) the job runs on.
    :returns: the dates taken, oldest first.
    """
    dates = due_dates(today)
    for day in dates:
        with unit_of_work():
            take_snapshot(day)
    return dates


def snapshot_job(app: Flask) -> list[dt.date]:
    """The scheduler's job: :func:`take_due_snapshots` for today in its own app context."""
    with app.app_context():
        try:
            dates = take_due_snapshots(business_today())
            logger.info("coverage snapshot job: dates=%s", [d.isoformat() for d in dates])
            return dates
        except Exception:
            logger.exception("coverage snapshot job failed")
            raise
        finally:
            db.session.remove()


def requeue_job(app: Flask) -> list[int]:
    """The scheduler's job: :func:`app.customers.uploads.requeue_stalled`, one unit of work."""
    with app.app_context():
        try:
            with unit_of_work():
                return requeue_stalled()
        finally:
            db.session.remove()


def install_jobs(scheduler, app: Flask) -> list[str]:
    """Add the nightly snapshot and the stalled-import requeue to the scheduler.

    The memory job store holds them: they are added again at each start.

    :returns: the job ids added.
    """
    hour, minute = (int(part) for part in app.config["COVERAGE_SNAPSHOT_TIME"].split(":"))
    scheduler.add_job(snapshot_job, CronTrigger(hour=hour, minute=minute,
                                                timezone=app.config["TIMEZONE"]),
                      args=[app], id=JOB_ID, replace_existing=True, coalesce=True,
                      max_instances=1, next_run_time=utcnow())
    scheduler.add_job(requeue_job, "interval", minutes=REQUEUE_EVERY_MINUTES, args=[app],
                      id=REQUEUE_JOB_ID, replace_existing=True, coalesce=True, max_instances=1)
    return [JOB_ID, REQUEUE_JOB_ID]
