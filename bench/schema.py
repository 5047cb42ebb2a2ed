"""Schema reset shared by the bench scripts: every table dropped, then migrated to head."""

from __future__ import annotations

from flask_migrate import upgrade
from sqlalchemy import text

from app.core.extensions import db


def fresh_schema() -> None:
    """Drop every table of the app's database (its own and Alembic's) and run the migrations.

    Needs an app context. The database is the bench's own: a scratch SQLite file, or the
    PostgreSQL database given with ``--database-url``, whose tables are lost.
    """
    db.drop_all()
    with db.engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        connection.execute(text("DROP TABLE IF EXISTS apscheduler_jobs"))
    upgrade()
