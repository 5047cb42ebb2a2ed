"""Declarative base with a naming convention, shared by every model."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, MetaData
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator):
    """An aware UTC instant on every backend (SQLite stores naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        """Convert an aware instant to UTC; refuse naive datetimes."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value, dialect):
        """Return an aware UTC instant (SQLite hands back naive values)."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    """Current instant, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    """Base class for every Zhongtai model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def upsert_returning_ids(model, rows: list[dict], conflict_columns: list[str]) -> list[int]:
    """INSERT ``rows`` into ``model``'s table, skipping conflicts; return the new ids.

    One statement (``INSERT … ON CONFLICT (cols) DO NOTHING RETURNING id``) on
    SQLite and PostgreSQL, so concurrent or repeated runs never duplicate and
    never raise on the unique key. Rows that already existed are not returned.

    :param rows: column → value dicts; enum columns take their ``.value`` strings.
    :raises NotImplementedError: on a database other than SQLite or PostgreSQL.
    """
    from app.extensions import db

    if not rows:
        return []
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        raise NotImplementedError(f"upsert not implemented for {dialect}")
    statement = (
        insert(model.__table__).values(rows)
        .on_conflict_do_nothing(index_elements=conflict_columns)
        .returning(model.__table__.c.id)
    )
    return list(db.session.scalars(statement))
