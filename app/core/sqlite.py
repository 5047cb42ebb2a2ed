"""SQLite under concurrency: the pragmas every connection of ours gets.

Several processes (web workers, ``flask scheduler run``, CLI commands) may share one
SQLite file. Each new DBAPI connection of an engine passed to
:func:`configure_sqlite_engine` runs, before any other statement:

- ``PRAGMA busy_timeout = SQLITE_BUSY_TIMEOUT_MS``: a writer that finds the database
  locked waits up to this long (milliseconds) instead of failing with "database is
  locked".
- ``PRAGMA journal_mode = WAL``: readers never wait for the writer, nor the writer for
  readers (the mode is stored in the database file; the statement only confirms it).
- ``PRAGMA foreign_keys = ON``: foreign keys are enforced as on PostgreSQL. Migrations
  turn them off for their own connection (``migrations/env.py``), because Alembic's batch
  mode rebuilds a table by copying, dropping and renaming it.

The driver's transaction handling is left as it is (see ``app.core.locks``).
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine

SQLITE_PRAGMAS = ("journal_mode = WAL", "foreign_keys = ON")


def configure_sqlite_engine(engine: Engine, busy_timeout_ms: int) -> None:
    """Install the connection pragmas on a SQLite engine; other engines are left alone.

    :param engine: any SQLAlchemy engine (the app's, the scheduler's job store, a lease).
    :param busy_timeout_ms: how long a connection waits for a lock, in milliseconds (>= 0).
    :raises ValueError: if ``busy_timeout_ms`` is negative or not an integer.
    """
    if engine.dialect.name != "sqlite":
        return
    if isinstance(busy_timeout_ms, bool) or not isinstance(busy_timeout_ms, int) \
            or busy_timeout_ms < 0:
        raise ValueError(f"SQLITE_BUSY_TIMEOUT_MS must be an integer >= 0, "
                         f"not {busy_timeout_ms!r}")

    def _on_connect(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        try:
            # First, so that switching an existing file to WAL waits for other connections.
            cursor.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
            for pragma in SQLITE_PRAGMAS:
                cursor.execute(f"PRAGMA {pragma}")
        finally:
            cursor.close()

    event.listen(engine, "connect", _on_connect)
