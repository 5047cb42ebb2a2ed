"""CLI: ``flask ops run-day`` and ``flask scheduler run``."""

from __future__ import annotations

import datetime as dt
import json
import logging
import signal
from contextlib import contextmanager

import click
from apscheduler.schedulers.background import BackgroundScheduler
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from app.broadcasts import jobs
from app.broadcasts.models import SopPlan
from app.broadcasts.run_day import run_day
from app.broadcasts.scheduler import (
    LOCK_JOB_ID,
    SYNC_JOB_ID,
    SchedulerAlreadyRunning,
    build_scheduler,
    heartbeat_job,
    heartbeat_seconds,
    install_registered_jobs,
    single_instance_lock,
)
from app.core.clock import business_today
from app.core.extensions import db
from app.core.unit_of_work import command_unit_of_work

logger = logging.getLogger(__name__)
ops_cli = AppGroup("ops", help="Daily operations (the scheduler's job, by hand).")
scheduler_cli = AppGroup("scheduler", help="The APScheduler process.")


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
@command_unit_of_work
def run_day_command(run_date, sop_plan_ids):
    """Run the daily content job for one date and print its JSON result."""
    if sop_plan_ids:
        known = set(db.session.scalars(select(SopPlan.id).where(SopPlan.id.in_(sop_plan_ids))))
        unknown = sorted(set(sop_plan_ids) - known)
        if unknown:
            raise click.BadParameter(f"no SOP plan with id {', '.join(map(str, unknown))}",
                                     param_hint="--sop")
    result = run_day(run_date or business_today(), list(sop_plan_ids) or None)
    click.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))


@scheduler_cli.command("run")
def scheduler_run_command():
    """Run the scheduler in the foreground (one per database; exits if one is running).

    Holds the database's scheduler lock while it runs and renews it every third of
    ``SCHEDULER_LEASE_SECONDS``; stops with exit status 1 if the lock is lost. SIGTERM and
    Ctrl+C stop it cleanly and give the lock up at once.
    """
    app = current_app._get_current_object()
    scheduler = build_scheduler(app)
    jobs.bind_app(app, scheduler)
    try:
        with single_instance_lock(app) as lock:
            scheduler.add_job(jobs.sync_sop_jobs, "interval", id=SYNC_JOB_ID,
                              jobstore="volatile", replace_existing=True,
                              seconds=app.config["SCHEDULER_SYNC_INTERVAL_SECONDS"],
                              next_run_time=dt.datetime.now(dt.UTC))
            scheduler.add_job(heartbeat_job, "interval", args=[lock, scheduler],
                              id=LOCK_JOB_ID, jobstore="volatile", replace_existing=True,
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


@scheduler_cli.command("jobs")
def scheduler_jobs_command():
    """List the persisted jobs with their next run time."""
    scheduler = build_scheduler(current_app, scheduler_class=BackgroundScheduler)
    scheduler.start(paused=True)
    try:
        for job in scheduler.get_jobs(jobstore="default"):
            click.echo(f"{job.id}\t{job.name}\t{job.next_run_time}")
    finally:
        scheduler.shutdown(wait=False)
