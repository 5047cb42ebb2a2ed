"""CLI: ``flask ops run-day`` and ``flask scheduler run``."""

from flask.cli import AppGroup

ops_cli = AppGroup("ops", help="Daily operations (the scheduler's job, by hand).")
scheduler_cli = AppGroup("scheduler", help="The APScheduler process.")
