"""CLI: ``flask ops run-day`` and ``flask scheduler run``."""

from __future__ import annotations

import datetime as dt
import json
import logging
import signal
from contextlib import contextmanager

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from app.broadcasts import jobs, runs
from app.broadcasts.models import SopPlan
from app.broadcasts.scheduler import (
    LOCK_JOB_ID,
    TICK_JOB_ID,
    SchedulerAlreadyRunning,
    build_scheduler,
    heartbeat_job,
    heartbeat_seconds,
    single_instance_lock,
    standby_lock,
)
from app.broadcasts.schedules import ScheduleError, check_timezone, occurrences, parse_schedule
from app.core import leases
from app.core.clock import business_today
from app.core.extensions import db
from app.core.scheduling import install_registered_jobs

logger = logging.getLogger(__name__)
ops_cli = AppGroup("ops", help="Daily operations (the scheduler's job, by hand).")
scheduler_cli = AppGroup("scheduler", help="The APScheduler process.")
sop_cli = AppGroup("sop", help="SOP plan schedules.")


def _parse_date(ctx, param, value):
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as error:
        raise click.BadParameter("expected YYYY-MM-DD") from error


@ops_cli.command("run-day")
@click.option("--date", "run_date", callback=_parse_date, help="Business date YYYY-MM-DD "
              "(default: today in Asia/Shanghai, or BUSINESS_DATE).")
@click.option("--sop", "sop_plan_ids", type=int, multiple=True, help="Only these SOP plan ids.")
def run_day_command(run_date, sop_plan_ids):
    """Run the daily content job for one date and print its JSON result.

    Commits the market step, then renders without a write transaction, then commits the
    posts and tasks (``jobs.run_day_in_steps``).
    """
    if sop_plan_ids:
        known = set(db.session.scalars(select(SopPlan.id).where(SopPlan.id.in_(sop_plan_ids))))
        unknown = sorted(set(sop_plan_ids) - known)
        if unknown:
            raise click.BadParameter(f"no SOP plan with id {', '.join(map(str, unknown))}",
                                     param_hint="--sop")
    result = jobs.run_day_in_steps(run_date or business_today(), list(sop_plan_ids) or None)
    click.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))


@scheduler_cli.command("run")
@click.option("--standby", is_flag=True, help="If another scheduler holds the lock, wait "
              "for it (hot standby) instead of exiting; take over when it is freed.")
def scheduler_run_command(standby):
    """Run the scheduler in the foreground (one per database; exits if one is running).

    With ``--standby`` it waits instead, polling every third of ``SCHEDULER_LEASE_SECONDS``,
    and takes over when the leader stops or dies; runs the dead leader had claimed but not
    finished are queued again (``runs.release_orphaned_claims``).
    Ticks every ``SCHEDULER_TICK_SECONDS`` (``app.broadcasts.jobs.tick``).
    Holds the database's scheduler lock while it runs and renews it every third of
    ``SCHEDULER_LEASE_SECONDS``; stops with exit status 1 if the lock is lost. SIGTERM and
    Ctrl+C stop it cleanly and give the lock up at once.
    """
    app = current_app._get_current_object()
    scheduler = build_scheduler(app)
    jobs.bind_app(app, scheduler)
    holding = (standby_lock(app, on_wait=lambda why: click.echo(f"standby: {why}"))
               if standby else single_instance_lock(app))
    try:
        with holding as lock:
            jobs.release_orphans_job()
            scheduler.add_job(jobs.tick_job, "interval", args=[leases.new_holder_id()],
                              id=TICK_JOB_ID, replace_existing=True,
                              seconds=app.config["SCHEDULER_TICK_SECONDS"],
                              next_run_time=dt.datetime.now(dt.UTC))
            scheduler.add_job(heartbeat_job, "interval", args=[lock, scheduler],
                              id=LOCK_JOB_ID, replace_existing=True,
                              seconds=heartbeat_seconds(app))
            install_registered_jobs(scheduler, app)
            click.echo("scheduler started (Ctrl+C to stop)")
            with _sigterm_exits():
                scheduler.start()
    except SchedulerAlreadyRunning as error:
        raise click.ClickException(f"scheduler not started: {error}") from error
    except (KeyboardInterrupt, SystemExit):
        click.echo("scheduler stopped")
        return
    if lock.lost is not None:
        raise click.ClickException(f"scheduler stopped: {lock.lost}")


@contextmanager
def _sigterm_exits():
    """Turn SIGTERM into ``SystemExit`` so the lock is released on the way out."""

    def _exit(signum, frame):
        raise SystemExit(0)

    previous = signal.signal(signal.SIGTERM, _exit)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@scheduler_cli.command("tick")
def scheduler_tick_command():
    """Run one scheduler tick now (create, claim and run due plan runs); print the counts.

    Safe beside a running scheduler: runs are claimed with a conditional UPDATE.
    """
    counts = jobs.tick(f"{runs.CLI_HOLDER_PREFIX}{leases.new_holder_id()}")
    click.echo(json.dumps(counts))


@sop_cli.command("occurrences")
@click.option("--schedule", "expression", required=True,
              help="Schedule expression, e.g. 'weekly:MON,THU@08:30' (README: 发送规则).")
@click.option("--from", "start", required=True, callback=_parse_date, help="First date.")
@click.option("--to", "end", required=True, callback=_parse_date, help="Last date (included).")
@click.option("--timezone", default=None, help="IANA time zone (default: TIMEZONE).")
def sop_occurrences_command(expression, start, end, timezone):
    """Print the occurrences of a schedule between two dates as a JSON list (ISO 8601)."""
    timezone = timezone or current_app.config["TIMEZONE"]
    try:
        zone = check_timezone(timezone)
        found = occurrences(parse_schedule(expression), timezone,
                            dt.datetime.combine(start, dt.time.min, tzinfo=zone),
                            dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min,
                                                tzinfo=zone))
    except ScheduleError as error:
        raise click.BadParameter(str(error)) from error
    click.echo(json.dumps([at.isoformat() for at in found]))
