"""Row locks that hold on PostgreSQL and on SQLite.

A rule of the form "read the rows, judge, then write" (per task, the logged quantities
stay within the reach) needs the rows it judges to stay put until its transaction ends.

- PostgreSQL: ``SELECT … ORDER BY <primary key> FOR UPDATE`` locks exactly those rows
  (in key order, so two lockers cannot deadlock); other transactions wait for them.
- SQLite has no row locks and ignores ``FOR UPDATE``; a writer locks the whole database.
  :func:`lock_rows` therefore writes: a no-op ``UPDATE … SET <pk> = <pk>`` on those rows.
  With the driver's default transaction handling (pysqlite's "legacy transaction control":
  reads run outside a transaction, ``BEGIN`` is sent just before the first INSERT, UPDATE
  or DELETE) this statement either opens the transaction, waiting up to ``busy_timeout``
  for the database write lock, or runs in a transaction that already holds it. Either way,
  everything the transaction reads afterwards is the latest committed state, and no other
  writer commits until it ends. ``tests/interactions/test_parallel_writers.py`` holds this
  with parallel writers on both backends.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, scoped_session


def _dialect_name(executor: Session | scoped_session | Connection) -> str:
    if isinstance(executor, Connection):
        return executor.dialect.name
    return executor.get_bind().dialect.name


def lock_rows(executor: Session | scoped_session | Connection, model, *criteria) -> None:
    """Lock ``model``'s rows matching ``criteria`` until the current transaction ends.

    Call it before reading what a rule judges; a GET request may not call it (it writes
    on SQLite, which the unit of work refuses in a safe request).

    :param executor: the session (services pass ``db.session``) or a Core connection.
    :param model: a mapped class with a single-column primary key (e.g. ``Task``).
    :param criteria: SQL expressions selecting the rows (e.g. ``Task.id.in_(ids)``).
    :returns: nothing; on SQLite the whole database is locked for writing.
    :raises sqlalchemy.exc.OperationalError: on SQLite when the write lock is not free
        within ``busy_timeout`` ("database is locked"); on PostgreSQL when
        ``lock_timeout`` expires.
    """
    table = model.__table__
    (key,) = table.primary_key.columns
    if _dialect_name(executor) == "sqlite":
        # Columns with an ``onupdate`` default are set to themselves too, so locking never
        # changes a row.
        unchanged = {c: c for c in table.columns if c is key or c.onupdate is not None}
        executor.execute(update(table).where(*criteria).values(unchanged))
        return
    executor.execute(select(key).where(*criteria).order_by(key).with_for_update())
