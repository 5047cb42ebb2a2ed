"""Write one batch of parsed import records: new rows inserted, changed rows updated, counted.

Each writer reads the stored rows of its batch in one query (by key), compares, then
inserts the new rows with ``INSERT … ON CONFLICT DO NOTHING`` and updates the changed ones
with ``INSERT … ON CONFLICT DO UPDATE`` (``app.core.upserts``), so a re-import changes
nothing and two imports running at once never duplicate a row. Usernames and segment names
are resolved here, per batch, through :class:`ImportContext`'s caches.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import insert, select, update

from app.core.extensions import db
from app.core.upserts import insert_many_skipping_conflicts, insert_on_conflict, upsert_rows
from app.customers.import_rows import header_key
from app.customers.models import (
    Customer,
    CustomerOwnership,
    Segment,
    Verification,
    WecomContact,
)
from app.org.models import User

_CUSTOMER_FIELDS = ("rm_id", "segment_id", "has_account", "province_code", "aum_cny",
                    "marketing_opt_out")
_CONTACT_FIELDS = ("add_way", "contact_type", "corp_name", "removed_at")
_VERIFICATION_FIELDS = ("method", "ip_province_code")


@dataclass
class Counts:
    """Rows of one batch that were new, changed or already stored as they are."""

    imported: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class ImportContext:
    """What the writers of one import share: the instant, caches and the error sink.

    ``effective_at`` (aware UTC) is when a change of owner takes effect; ``error(line,
    message)`` records a per-row error.
    """

    effective_at: dt.datetime
    error: Callable[[int, str], None]
    _users: dict[str, int | None] = field(default_factory=dict)
    _segments: dict[str, int] | None = None

    def user_ids(self, usernames: set[str]) -> dict[str, int | None]:
        """Map usernames to user ids (``None`` when unknown), one query per batch."""
        missing = [name for name in usernames if name not in self._users]
        if missing:
            found = {row.username: row.id for row in db.session.execute(
                select(User.username, User.id).where(User.username.in_(missing)))}
            for name in missing:
                self._users[name] = found.get(name)
        return self._users

    def segment_id(self, name: str) -> int | None:
        """A segment's id by code (``private``) or Chinese name (私行), ``None`` if unknown."""
        if self._segments is None:
            self._segments = {}
            for segment in db.session.scalars(select(Segment)):
                self._segments[header_key(segment.code)] = segment.id
                self._segments[header_key(segment.name)] = segment.id
        return self._segments.get(header_key(name))


def _resolve_staff(batch, ctx: ImportContext, name_field: str, id_field: str, label: str):
    """Records whose username resolved, ``name_field`` replaced by ``id_field`` (in place).

    :returns: the resolved ``(line, record)`` pairs; an error is recorded for the others.
    """
    ids = ctx.user_ids({record[name_field] for _, record in batch})
    resolved = []
    for line, record in batch:
        user_id = ids.get(record[name_field])
        if user_id is None:
            ctx.error(line, f"{label}不存在：{record[name_field]}")
            continue
        record[id_field] = user_id
        del record[name_field]
        resolved.append((line, record))
    return resolved


def write_customers(batch: list[tuple[int, dict]], ctx: ImportContext) -> Counts:
    """Upsert customers; a change of RM closes the open ownership and opens a new one.

    A new customer's first ownership has ``valid_from`` NULL (owned since before the book
    was imported); a reassignment takes effect at ``ctx.effective_at``.
    """
    rows = []
    for line, record in _resolve_staff(batch, ctx, "rm", "rm_id", "客户经理"):
        segment_id = ctx.segment_id(record["segment"])
        if segment_id is None:
            ctx.error(line, f"客群无效：{record['segment']}")
            continue
        rows.append({"customer_ref": record["customer_ref"], "segment_id": segment_id,
                     **{name: record[name] for name in _CUSTOMER_FIELDS
                        if name not in ("segment_id", "marketing_opt_out")},
                     "marketing_opt_out": record.get("marketing_opt_out"),  # None: keep
                     "updated_at": ctx.effective_at})
    stored = {r.customer_ref: r for r in db.session.execute(
        select(Customer.id, Customer.customer_ref,
               *[getattr(Customer, f) for f in _CUSTOMER_FIELDS])
        .where(Customer.customer_ref.in_([row["customer_ref"] for row in rows])))}
    counts, new, changed, moved = Counts(), [], [], []
    for row in rows:
        old = stored.get(row["customer_ref"])
        if row["marketing_opt_out"] is None:  # no 拒绝营销 cell: keep the stored flag
            row["marketing_opt_out"] = bool(old and old.marketing_opt_out)
        if old is None:
            new.append(row)
        elif all(getattr(old, f) == row[f] for f in _CUSTOMER_FIELDS):
            counts.unchanged += 1
        else:
            changed.append(row)
            if old.rm_id != row["rm_id"]:
                moved.append({"customer_id": old.id, "rm_id": row["rm_id"]})
    if new:
        statement = (insert_on_conflict(Customer.__table__)
                     .on_conflict_do_nothing(index_elements=["customer_ref"])
                     .returning(Customer.__table__.c.id, Customer.__table__.c.rm_id))
        created = db.session.execute(statement, new).all()
        if created:
            db.session.execute(insert(CustomerOwnership), [
                {"customer_id": c.id, "rm_id": c.rm_id, "valid_from": None} for c in created])
        counts.imported += len(created)
    if changed:
        upsert_rows(Customer.__table__, changed, ("customer_ref",),
                    (*_CUSTOMER_FIELDS, "updated_at"))
        counts.updated += len(changed)
    if moved:
        _reassign(moved, ctx.effective_at)
    return counts


def _reassign(moved: list[dict], effective_at: dt.datetime) -> None:
    """Close the open ownership of each moved customer at ``effective_at``; open the new one."""
    db.session.execute(
        update(CustomerOwnership)
        .where(CustomerOwnership.customer_id.in_([m["customer_id"] for m in moved]))
        .where(CustomerOwnership.valid_to.is_(None))
        .values(valid_to=effective_at)
        .execution_options(synchronize_session=False))
    db.session.execute(insert(CustomerOwnership),
                       [{**m, "valid_from": effective_at} for m in moved])


def _write_keyed(rows: list[dict], table, key: tuple[str, ...], fields: tuple[str, ...],
                 stored: dict[tuple, tuple]) -> Counts:
    """Classify ``rows`` against ``stored`` (key → field values), insert new, update changed."""
    counts, new, changed = Counts(), [], []
    for row in rows:
        old = stored.get(tuple(row[k] for k in key))
        if old is None:
            new.append(row)
        elif old == tuple(row[f] for f in fields):
            counts.unchanged += 1
        else:
            changed.append(row)
    if new:  # driver-level bulk insert (COPY on PostgreSQL); rows another import added skip
        counts.imported += insert_many_skipping_conflicts(table, new, list(key))
    if changed:
        upsert_rows(table, changed, key, fields)
        counts.updated += len(changed)
    return counts


def write_contacts(batch: list[tuple[int, dict]], ctx: ImportContext) -> Counts:
    """Upsert WeCom contacts keyed by (staff, external_userid, added_at)."""
    rows = [record for _, record in _resolve_staff(batch, ctx, "staff", "staff_id", "员工")]
    c = WecomContact
    stored = {(r[0], r[1], r[2]): tuple(r[3:]) for r in db.session.execute(
        select(c.staff_id, c.external_userid, c.added_at,
               *[getattr(c, f) for f in _CONTACT_FIELDS])
        .where(c.external_userid.in_({row["external_userid"] for row in rows})))}
    return _write_keyed(rows, c.__table__, ("staff_id", "external_userid", "added_at"),
                        _CONTACT_FIELDS, stored)


def write_verifications(batch: list[tuple[int, dict]], ctx: ImportContext) -> Counts:
    """Upsert verifications keyed by (external_userid, customer_ref, verified_at)."""
    rows = [record for _, record in batch]  # method as its name: "link" or "app"
    v = Verification
    stored = {(r[0], r[1], r[2]): tuple(r[3:]) for r in db.session.execute(
        select(v.external_userid, v.customer_ref, v.verified_at, v.method, v.ip_province_code)
        .where(v.external_userid.in_({row["external_userid"] for row in rows})))}
    stored = {key: (method.name, province) for key, (method, province) in stored.items()}
    return _write_keyed(rows, v.__table__, ("external_userid", "customer_ref", "verified_at"),
                        _VERIFICATION_FIELDS, stored)


WRITERS = {"customers": write_customers, "contacts": write_contacts,
           "verifications": write_verifications}
