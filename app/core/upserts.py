"""Idempotent bulk inserts: ``INSERT … ON CONFLICT`` on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite

from app.core.extensions import db

UPSERT_CHUNK_ROWS = 500  # rows per ``upsert_rows`` statement (bound parameter limits)


def insert_on_conflict(table, dialect: str | None = None):
    """The dialect's INSERT for ``table``, which offers ``ON CONFLICT`` clauses.

    The one place that picks ``sqlalchemy.dialects.postgresql.insert`` or
    ``sqlalchemy.dialects.sqlite.insert`` for the current session's database; chain
    ``.on_conflict_do_nothing(index_elements=…)`` or ``.on_conflict_do_update(…)`` on it.

    :param table: a SQLAlchemy ``Table`` (e.g. ``PriceBar.__table__``).
    :param dialect: ``"postgresql"`` or ``"sqlite"`` for a statement run outside the
        session (on a Core connection); default: the session's database.
    :returns: an ``Insert`` construct of that dialect (no values yet).
    :raises NotImplementedError: on a database other than SQLite or PostgreSQL.
    """
    dialect = dialect or db.session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"upsert not implemented for {dialect}")


def upsert_returning_ids(model, rows: list[dict], conflict_columns: list[str]) -> list[int]:
    """INSERT ``rows`` into ``model``'s table, skipping conflicts; return the new ids.

    ``INSERT … ON CONFLICT (cols) DO NOTHING RETURNING id`` on SQLite and
    PostgreSQL, so concurrent or repeated runs never duplicate and never raise on
    the unique key. Rows that already existed are not returned.

    :param rows: column → value dicts; enum columns take their ``.value`` strings.
    :raises NotImplementedError: on a database other than SQLite or PostgreSQL.
    """
    if not rows:
        return []
    statement = (
        insert_on_conflict(model.__table__)
        .on_conflict_do_nothing(index_elements=conflict_columns)
        .returning(model.__table__.c.id)
    )
    # executemany with RETURNING: SQLAlchemy batches it ("insertmanyvalues") with one
    # cached compiled statement, instead of compiling one huge VALUES list per call.
    return list(db.session.scalars(statement, rows))


def upsert_rows(table, rows: list[dict], keys: tuple[str, ...], update: tuple[str, ...]) -> None:
    """Insert rows, updating ``update`` columns when the ``keys`` already exist.

    Uses ``INSERT … ON CONFLICT DO UPDATE`` on SQLite and PostgreSQL (the unique
    constraint on ``keys`` decides), so concurrent or repeated runs never duplicate;
    sent in chunks of ``UPSERT_CHUNK_ROWS`` rows.

    :param table: a SQLAlchemy ``Table`` (e.g. ``PriceBar.__table__``).
    :param rows: dicts of column values, all with the same keys.
    :param keys: the columns of the unique constraint.
    :param update: columns overwritten on conflict.
    :raises NotImplementedError: on another database dialect.
    """
    for first in range(0, len(rows), UPSERT_CHUNK_ROWS):
        stmt = insert_on_conflict(table)
        stmt = stmt.on_conflict_do_update(
            index_elements=list(keys), set_={name: stmt.excluded[name] for name in update}
        )
        db.session.execute(stmt, rows[first : first + UPSERT_CHUNK_ROWS])


def insert_many_skipping_conflicts(table, rows: list[dict], conflict_columns: list[str]) -> int:
    """Bulk INSERT ``rows``, skipping rows that hit the unique key, without per-row ORM work.

    SQLite: one driver ``executemany`` of ``INSERT … ON CONFLICT (cols) DO NOTHING``.
    PostgreSQL: ``COPY`` into a temporary table, then one ``INSERT … SELECT … ON CONFLICT
    (cols) DO NOTHING``. Each distinct value is converted once by its column type. Runs in
    the session's transaction.

    :param table: a SQLAlchemy ``Table``.
    :param rows: dicts with the same keys, all columns of ``table`` the rows set.
    :param conflict_columns: the columns of the unique constraint.
    :returns: the number of rows inserted (the driver's row count; skipped rows not counted).
    :raises NotImplementedError: on a database other than SQLite or PostgreSQL.
    """
    if not rows:
        return 0
    connection = db.session.connection()
    dialect = connection.dialect
    if dialect.name not in ("sqlite", "postgresql"):
        raise NotImplementedError(f"bulk insert not implemented for {dialect.name}")
    columns = list(rows[0])
    params = list(zip(*(_bound_column(table.c[name].type, dialect, [row[name] for row in rows])
                        for name in columns), strict=True))
    quote = dialect.identifier_preparer.quote
    if dialect.name == "postgresql":
        return _copy_then_insert(connection, quote(table.name), [quote(c) for c in columns],
                                 [quote(c) for c in conflict_columns], params)
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
           f"VALUES ({', '.join([marker] * len(columns))}) "
           f"ON CONFLICT ({', '.join(quote(c) for c in conflict_columns)}) DO NOTHING")
    return connection.exec_driver_sql(sql, params).rowcount


def _bound_column(column_type, dialect, values: list) -> list:
    """``values`` as the driver receives them; each distinct value is converted once."""
    processor = column_type.dialect_impl(dialect).bind_processor(dialect)
    if processor is None:
        return values
    converted: dict = {}
    result = []
    for value in values:
        if value is None:
            result.append(None)
        elif isinstance(value, list | dict):  # unhashable (JSON)
            result.append(processor(value))
        else:
            if value not in converted:  # shared values (instants, status) are converted once
                converted[value] = processor(value)
            result.append(converted[value])
    return result


def _copy_then_insert(connection, table: str, columns: list[str], conflict: list[str],
                      params: list[tuple]) -> int:
    """PostgreSQL: COPY ``params`` into a temporary table, then INSERT … ON CONFLICT DO NOTHING."""
    names = ", ".join(columns)
    with connection.connection.dbapi_connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE bulk_rows ON COMMIT DROP AS "
                       f"SELECT {names} FROM {table} WITH NO DATA")
        with cursor.copy(f"COPY bulk_rows ({names}) FROM STDIN") as copy:
            for row in params:
                copy.write_row(row)
        cursor.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM bulk_rows "
                       f"ON CONFLICT ({', '.join(conflict)}) DO NOTHING")
        inserted = cursor.rowcount
        cursor.execute("DROP TABLE bulk_rows")
    return inserted
