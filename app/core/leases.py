"""Named leases: at most one holder per name among every process using one database.

A lease is a row of ``leases`` (``name``, ``holder``, ``acquired_at``, ``heartbeat_at``,
``expires_at``). A process claims it when it is free or expired, renews it well before it
expires (a heartbeat), and deletes it when it stops. A holder that crashed stops renewing,
and its lease can be taken over once ``expires_at`` has passed. Because the row lives in
the database, two processes on one database exclude each other whatever folder, checkout
or host they run from.

Every function here runs and commits its own transaction on the engine it is given:
a lease outlives the units of work of the process holding it. Each change is one
conditional statement (``INSERT … ON CONFLICT DO NOTHING``, then ``UPDATE … WHERE
holder = me OR expires_at <= now``), so two claimants can never both win. Instants are
aware UTC from the caller's clock: processes sharing a SQLite file share a host and its
clock; on PostgreSQL, hosts are assumed to be NTP-synchronised well within a lease.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import uuid
from dataclasses import dataclass

from sqlalchemy import String, delete, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import utcnow
from app.core.db import Base, UtcDateTime
from app.core.upserts import insert_on_conflict

logger = logging.getLogger(__name__)

#: Attempts of :func:`acquire` when the row vanishes between its statements (a
#: concurrent release on PostgreSQL).
_ACQUIRE_ATTEMPTS = 3


class Lease(Base):
    """One named lease; ``holder`` is the process that owns it until ``expires_at`` (UTC)."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(255))
    acquired_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    heartbeat_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


@dataclass(frozen=True)
class LeaseState:
    """A lease as stored: who holds it, since when, last renewed and until when (aware UTC)."""

    name: str
    holder: str
    acquired_at: dt.datetime
    heartbeat_at: dt.datetime
    expires_at: dt.datetime


class LeaseUnavailable(RuntimeError):
    """Another holder owns the lease and it has not expired; ``state`` names the holder."""

    def __init__(self, state: LeaseState) -> None:
        super().__init__(
            f"lease {state.name!r} is held by {state.holder} until "
            f"{state.expires_at:%Y-%m-%d %H:%M:%S} UTC "
            f"(last heartbeat {state.heartbeat_at:%H:%M:%S} UTC)"
        )
        self.state = state


def new_holder_id() -> str:
    """A holder id unique to this process and call: ``host:pid:random``.

    :returns: e.g. ``"web-1:4242:9f2c4e1a"`` (at most 255 characters).
    """
    return f"{socket.gethostname()[:200]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _state(connection: Connection, name: str, *, for_update: bool = False) -> LeaseState | None:
    table = Lease.__table__
    query = select(table).where(table.c.name == name)
    row = connection.execute(query.with_for_update() if for_update else query).one_or_none()
    return None if row is None else LeaseState(
        row.name, row.holder, row.acquired_at, row.heartbeat_at, row.expires_at)


def _check(ttl: dt.timedelta, now: dt.datetime) -> None:
    if ttl <= dt.timedelta(0):
        raise ValueError("a lease lasts longer than 0 seconds")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")


def acquire(engine: Engine, name: str, holder: str, ttl: dt.timedelta,
            now: dt.datetime | None = None) -> dt.datetime:
    """Claim the lease ``name`` for ``holder`` if it is free, expired or already theirs.

    :param engine: engine of the database the lease protects.
    :param name: lease name (at most 64 characters), e.g. ``"scheduler"``.
    :param holder: the claimant's id (``new_holder_id()``).
    :param ttl: how long the lease lasts without a renewal (> 0).
    :param now: aware instant of the claim (default: now, UTC).
    :returns: the new ``expires_at`` (aware UTC).
    :raises LeaseUnavailable: another holder owns it and it has not expired.
    :raises ValueError: ``ttl`` not positive or ``now`` naive.
    """
    now = now or utcnow()
    _check(ttl, now)
    table = Lease.__table__
    values = {"holder": holder, "acquired_at": now, "heartbeat_at": now,
              "expires_at": now + ttl}
    for _ in range(_ACQUIRE_ATTEMPTS):
        with engine.begin() as connection:
            insert = insert_on_conflict(table, connection.dialect.name)
            if connection.execute(insert.values(name=name, **values)
                                  .on_conflict_do_nothing(index_elements=["name"])
                                  .returning(table.c.name)).first():
                logger.info("lease acquired name=%s holder=%s", name, holder)
                return values["expires_at"]
            previous = _state(connection, name, for_update=True)
            if previous is None:
                continue  # released between the two statements: try again
            claimed = connection.execute(
                update(table).where(table.c.name == name,
                                    or_(table.c.holder == holder, table.c.expires_at <= now))
                .values(**values)).rowcount
            if claimed:
                logger.info("lease acquired name=%s holder=%s previous=%s expired_at=%s", name,
                            holder, previous.holder, previous.expires_at.isoformat())
                return values["expires_at"]
        raise LeaseUnavailable(previous)
    raise RuntimeError(f"lease {name!r}: the row kept vanishing; try again")


def renew(engine: Engine, name: str, holder: str, ttl: dt.timedelta,
          now: dt.datetime | None = None) -> dt.datetime | None:
    """Extend ``holder``'s lease to ``now + ttl`` (the heartbeat).

    :param now: aware instant of the renewal (default: now, UTC).
    :returns: the new ``expires_at`` (aware UTC), or ``None`` if ``holder`` no longer
        holds the lease (it expired and was taken over, or was released).
    :raises ValueError: ``ttl`` not positive or ``now`` naive.
    """
    now = now or utcnow()
    _check(ttl, now)
    table = Lease.__table__
    with engine.begin() as connection:
        renewed = connection.execute(
            update(table).where(table.c.name == name, table.c.holder == holder)
            .values(heartbeat_at=now, expires_at=now + ttl)).rowcount
    return now + ttl if renewed else None


def release(engine: Engine, name: str, holder: str) -> bool:
    """Give the lease up at once (the next claimant need not wait for its expiry).

    :returns: ``True`` if ``holder`` held it, ``False`` if someone else did or nobody.
    """
    table = Lease.__table__
    with engine.begin() as connection:
        released = connection.execute(
            delete(table).where(table.c.name == name, table.c.holder == holder)).rowcount
    if released:
        logger.info("lease released name=%s holder=%s", name, holder)
    return bool(released)


def current(engine: Engine, name: str) -> LeaseState | None:
    """The stored lease ``name`` (expired or not), or ``None`` if nobody holds it."""
    with engine.connect() as connection:
        return _state(connection, name)
