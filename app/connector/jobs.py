"""Scheduler jobs of the connector, installed into ``flask scheduler run`` when WeCom is on.

- ``wecom-push`` every minute: enqueue and push today's posts (so pushes follow the daily
  run within a minute of its commit), poll Moments jobs, send cancels, remind overdue
  mass messages;
- ``wecom-pull`` every ``WECOM_PULL_INTERVAL_SECONDS`` (300): today's results;
- ``wecom-nightly`` at 02:30 Asia/Shanghai: the previous 7 days' results and staff
  behaviour (WeCom finalises a day's statistics after it ends).
"""

from __future__ import annotations

import datetime as dt
import logging

from apscheduler.triggers.cron import CronTrigger
from flask import current_app

from app.broadcasts.jobs import in_app_context
from app.connector import behavior, pull, push, reminders
from app.core.clock import business_today
from app.core.extensions import db
from app.wecom.setup import wecom_client, wecom_enabled

logger = logging.getLogger(__name__)
NIGHTLY_DAYS = 7


def _commit() -> None:
    db.session.commit()


@in_app_context
def push_job() -> dict:
    """Push today's posts, then remind overdue mass messages."""
    client = wecom_client()
    summary = push.push(client, business_today(), _commit)
    summary["reminded"] = reminders.remind_overdue(
        client, current_app.config["WECOM_REMIND_AFTER_MINUTES"], _commit)
    logger.info("wecom push job: %s", summary)
    return summary


@in_app_context
def pull_today_job() -> dict:
    """Pull today's mass-message and Moments results."""
    today = business_today()
    summary = pull.pull(wecom_client(), today, today, _commit)
    logger.info("wecom pull job: %s", summary)
    return summary


@in_app_context
def pull_nightly_job() -> dict:
    """Pull the previous days' results and staff behaviour."""
    today = business_today()
    start, end = today - dt.timedelta(days=NIGHTLY_DAYS), today - dt.timedelta(days=1)
    client = wecom_client()
    summary = pull.pull(client, start, end, _commit)
    summary.update(behavior.pull_behavior(client, start, end, _commit))
    logger.info("wecom nightly job: %s", summary)
    return summary


def install_jobs(scheduler, app) -> list[str]:
    """Add the connector's jobs to the scheduler (memory store: re-added at each start).

    :returns: the job ids added; none in manual mode (no WeCom credentials).
    """
    if not wecom_enabled(app):
        return []
    common = {"jobstore": "volatile", "replace_existing": True, "coalesce": True,
              "max_instances": 1}
    scheduler.add_job(push_job, "interval", seconds=60, id="wecom-push", **common)
    scheduler.add_job(pull_today_job, "interval", id="wecom-pull", **common,
                      seconds=app.config["WECOM_PULL_INTERVAL_SECONDS"])
    scheduler.add_job(pull_nightly_job, CronTrigger(hour=2, minute=30,
                                                    timezone=app.config["TIMEZONE"]),
                      id="wecom-nightly", **common)
    return ["wecom-push", "wecom-pull", "wecom-nightly"]
