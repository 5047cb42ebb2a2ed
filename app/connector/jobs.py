"""Scheduler jobs of the connector, installed into ``flask scheduler run`` when WeCom is on.

They only queue the connector's tasks (``app.connector.tasks``, queue ``wecom``): the WeCom
calls run on task workers when ``TASK_QUEUE_URL`` is set, in-process otherwise.

- ``wecom-push`` every minute: enqueue and push today's posts (so pushes follow the daily
  run within a minute of its commit), retry the rows of the ``WECOM_PUSH_RETRY_DAYS``
  earlier days, poll Moments jobs, send cancels, remind overdue mass messages;
- ``wecom-pull`` every ``WECOM_PULL_INTERVAL_SECONDS`` (300): today's results;
- ``wecom-nightly`` at 02:30 Asia/Shanghai: the previous 7 days' results and staff
  behaviour (WeCom finalises a day's statistics after it ends).
"""

from __future__ import annotations

import datetime as dt
import logging

from apscheduler.triggers.cron import CronTrigger

from app.broadcasts.jobs import in_app_context
from app.connector import tasks
from app.core.clock import business_today
from app.core.tasks import enqueue
from app.wecom.setup import wecom_enabled

logger = logging.getLogger(__name__)
NIGHTLY_DAYS = 7


@in_app_context
def push_job() -> str | None:
    """Queue today's push (``tasks.push_day``). :returns: the message id (``None`` in-process)."""
    return enqueue(tasks.push_day, business_today().isoformat())


@in_app_context
def pull_today_job() -> str | None:
    """Queue the pull of today's mass-message and Moments results (``tasks.pull_days``)."""
    today = business_today().isoformat()
    return enqueue(tasks.pull_days, today, today, False)


@in_app_context
def pull_nightly_job() -> str | None:
    """Queue the pull of the previous days' results and staff behaviour."""
    today = business_today()
    start, end = today - dt.timedelta(days=NIGHTLY_DAYS), today - dt.timedelta(days=1)
    return enqueue(tasks.pull_days, start.isoformat(), end.isoformat(), True)


def install_jobs(scheduler, app) -> list[str]:
    """Add the connector's jobs to the scheduler (memory store: re-added at each start).

    :returns: the job ids added; none in manual mode (no WeCom credentials).
    """
    if not wecom_enabled(app):
        return []
    common = {"replace_existing": True, "coalesce": True,
              "max_instances": 1}
    scheduler.add_job(push_job, "interval", seconds=60, id="wecom-push", **common)
    scheduler.add_job(pull_today_job, "interval", id="wecom-pull", **common,
                      seconds=app.config["WECOM_PULL_INTERVAL_SECONDS"])
    scheduler.add_job(pull_nightly_job, CronTrigger(hour=2, minute=30,
                                                    timezone=app.config["TIMEZONE"]),
                      id="wecom-nightly", **common)
    return ["wecom-push", "wecom-pull", "wecom-nightly"]
