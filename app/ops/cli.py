"""CLI: ``flask tasks worker`` (the Dramatiq worker process) and ``flask tasks depth``."""

from __future__ import annotations

import json
import logging
import signal
import threading

import click
import dramatiq
from flask.cli import AppGroup
from prometheus_client import start_http_server

from app.core.extensions import db
from app.core.task_metrics import queue_depths
from app.core.tasks import REGISTRY, queue
from app.core.unit_of_work import command_unit_of_work
from app.ops.reports import request_scorecard_report
from app.org.models import User

logger = logging.getLogger(__name__)
tasks_cli = AppGroup("tasks", help="Background task queue (Dramatiq on Redis).")


def _broker():
    broker = queue().broker
    if broker is None:
        raise click.ClickException(
            "TASK_QUEUE_URL is empty: tasks run in-process, there is no queue to work on")
    return broker


@tasks_cli.command("worker")
@click.option("--queue", "queues", multiple=True,
              help="Only these queues (repeatable; default: every declared queue).")
@click.option("--threads", default=4, show_default=True, help="Worker threads.")
@click.option("--metrics-port", type=int, default=None,
              help="Serve this worker's Prometheus metrics on 127.0.0.1:PORT.")
@click.option("--stop-timeout-seconds", default=600, show_default=True,
              help="On SIGTERM, wait this long for running tasks before giving up.")
def worker_command(queues, threads, metrics_port, stop_timeout_seconds):
    """Run background tasks from the queue until SIGTERM or Ctrl+C.

    Each message runs in its own app context and unit of work; a failed one is retried with
    backoff, then kept in the dead-letter set (``flask tasks depth`` shows it).
    """
    broker = _broker()
    queue().declare_all()
    if metrics_port:
        start_http_server(metrics_port, addr="127.0.0.1")
    worker = dramatiq.Worker(broker, queues=set(queues) or None, worker_threads=threads)
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set())
                for sig in (signal.SIGTERM, signal.SIGINT)}
    worker.start()
    click.echo(f"worker started: {threads} threads, queues "
               f"{', '.join(sorted(queues or broker.get_declared_queues()))}")
    try:
        stop.wait()
    finally:
        worker.stop(timeout=stop_timeout_seconds * 1000)
        broker.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo("worker stopped")


@tasks_cli.command("depth")
def depth_command():
    """Print messages per queue and state (ready, delayed, dead) as JSON."""
    broker = _broker()
    queue().declare_all()
    depths = queue_depths(broker)
    click.echo(json.dumps({f"{name}.{state}": count for (name, state), count in depths.items()},
                          indent=2))


@tasks_cli.command("list")
def list_command():
    """List the declared tasks with their queue."""
    for name, spec in sorted(REGISTRY.items()):
        click.echo(f"{name}\t{spec.queue_name}\tretries={spec.max_retries}")


@tasks_cli.command("scorecard-report")
@click.option("--user", "username", required=True, help="Whose data scope applies.")
@click.option("--branch-id", type=int, default=None, help="Subtree root (default: user's).")
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), required=True)
@click.option("--end", type=click.DateTime(["%Y-%m-%d"]), required=True)
@command_unit_of_work
def scorecard_report_command(username, branch_id, start, end):
    """Queue a scorecard CSV report; prints its storage key (and message id)."""
    user = db.session.scalar(db.select(User).where(User.username == username))
    if user is None:
        raise click.BadParameter(f"no user {username!r}", param_hint="--user")
    key, message_id = request_scorecard_report(user.id, branch_id, start.date(), end.date())
    click.echo(json.dumps({"key": key, "message_id": message_id}))
