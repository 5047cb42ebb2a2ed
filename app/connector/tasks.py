"""The connector's background tasks: every WeCom push and pull runs through the task queue.

The scheduler's jobs (``app.connector.jobs``) only queue these (``app.core.tasks.enqueue``):
in-process by default they run at once in the scheduler, with ``TASK_QUEUE_URL`` set they
run on ``flask tasks worker`` processes (queue ``wecom``), never in a web process or in the
scheduler's tick. ``flask wecom push|pull`` call the same functions directly, to print
their summaries. Each task is idempotent: the outbox claims rows with a conditional UPDATE
(two runs never send one row twice) and pulled results are keyed by WeCom's ids.
"""

from __future__ import annotations

import datetime as dt
import logging

from flask import current_app

from app.connector import behavior, pull, push, reminders
from app.connector.contact_events import apply_pending
from app.core.extensions import db
from app.core.tasks import task
from app.wecom.setup import wecom_client

logger = logging.getLogger(__name__)
QUEUE = "wecom"


def _commit() -> None:
    db.session.commit()


@task(queue_name=QUEUE, max_retries=0, time_limit_seconds=1800, max_age_seconds=120)
def push_day(run_date: str) -> dict:
    """Push ``run_date``'s posts, retry earlier days' rows, send cancels, remind overdue ones.

    Earlier days: the ``WECOM_PUSH_RETRY_DAYS`` run dates before ``run_date`` (``push.push``).

    Queued every minute by the scheduler (hence no retries and a 2-minute message age: the
    next minute's message takes over).

    :param run_date: ISO date (Asia/Shanghai business date).
    :returns: ``push.push``'s summary plus ``"reminded"``.
    """
    client = wecom_client()
    summary = push.push(client, dt.date.fromisoformat(run_date), _commit,
                        current_app.config["WECOM_PUSH_RETRY_DAYS"])
    summary["reminded"] = reminders.remind_overdue(
        client, current_app.config["WECOM_REMIND_AFTER_MINUTES"], _commit)
    logger.info("wecom push %s: %s", run_date, summary)
    return summary


@task(queue_name=QUEUE, max_retries=2, time_limit_seconds=3600)
def pull_days(start: str, end: str, with_behavior: bool = False) -> dict:
    """Pull the measured results of run dates ``start``..``end`` (and staff behaviour).

    :param start: first run date, ISO. :param end: last run date, ISO (inclusive).
    :param with_behavior: also ``get_user_behavior_data`` for those days.
    :returns: ``pull.pull``'s summary, with ``behavior.pull_behavior``'s when asked.
    """
    client = wecom_client()
    first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    summary = pull.pull(client, first, last, _commit)
    if with_behavior:
        summary.update(behavior.pull_behavior(client, first, last, _commit))
    logger.info("wecom pull %s..%s: %s", start, end, summary)
    return summary


@task(queue_name=QUEUE, max_retries=3, time_limit_seconds=3600)
def apply_member_events(wecom_userid: str) -> int:
    """Apply the contact events WeCom sent for a member before a user got its WeCom userid.

    Queued by the admin service that links the user (``app.admin.services``), so a member
    with months of events never slows the admin's request; applying is idempotent (an
    applied event is never applied again).

    :returns: events applied.
    """
    applied = apply_pending([wecom_userid])
    if applied:
        logger.info("wecom member %s linked: %s earlier contact events applied",
                    wecom_userid, applied)
    return applied
