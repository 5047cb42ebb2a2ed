"""CLI: ``flask demo seed`` and ``flask users ...``."""

from flask.cli import AppGroup

demo_cli = AppGroup("demo", help="Demo data.")
users_cli = AppGroup("users", help="User accounts.")
