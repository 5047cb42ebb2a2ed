"""Coverage rate 覆盖率 per relationship manager and segment, its daily snapshots and targets.

Coverage of an RM (or a branch subtree) and a segment at a date D = customers of that segment
in the book at the end of D (``customer_ownerships``) who have a verified contact still
followed by their own RM at that moment ÷ customers of that segment in the book. "Verified
contact": a ``wecom_contacts`` row of the owning RM, added by the end of D and not removed
by then, whose external_userid a verification (made by then) links to the customer.
Everything is one SQL aggregate over the raw rows; branches roll the RM rows up their tree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import and_, case, exists, func, or_, select

from app.core.extensions import db
from app.customers.models import (
    Customer,
    CustomerOwnership,
    Segment,
    Verification,
    WecomContact,
)
from app.customers.sqltime import local_day_bounds
from app.org.models import Branch, User


@dataclass
class CoverageRow:
    """Customers and covered customers of one segment for one RM or one branch subtree."""

    key: str  # username or branch code
    segment: str  # segment code
    customers: int
    covered: int
    name: str = ""  # display name of the RM or branch
    key_id: int = 0  # user id or branch id

    @property
    def coverage_rate(self) -> float | None:
        """Covered ÷ customers, ``None`` when there are no customers."""
        return self.covered / self.customers if self.customers else None

    def as_dict(self, key_name: str) -> dict:
        """JSON shape of the ``coverage report`` contract (``key_name``: staff or branch)."""
        return {key_name: self.key, "segment": self.segment, "customers": self.customers,
                "covered": self.covered, "coverage_rate": self.coverage_rate}


def end_of_day(on: dt.date) -> dt.datetime:
    """The instant that ends ``on`` in ``TIMEZONE`` (aware UTC)."""
    return local_day_bounds(on, on, current_app.config["TIMEZONE"])[1]


def is_covered(book, end: dt.datetime):
    """SQL EXISTS: the ``book`` row's customer has a verified contact of its RM at ``end``."""
    return exists().where(
        Verification.customer_ref == book.c.customer_ref,
        Verification.verified_at < end,
        WecomContact.external_userid == Verification.external_userid,
        WecomContact.staff_id == book.c.rm_id,
        WecomContact.added_at < end,
        or_(WecomContact.removed_at.is_(None), WecomContact.removed_at >= end))


def covered_pairs(end: dt.datetime, staff_clause: Callable):
    """CTE of distinct (customer_ref, staff_id): a verified contact followed at ``end``.

    Restricted to the staff in scope, so a branch page reads only its staff's contacts
    (``ix_wecom_contacts_staff_id_added_at``) and their verifications.
    """
    return (
        select(Verification.customer_ref, WecomContact.staff_id)
        .join(WecomContact, WecomContact.external_userid == Verification.external_userid)
        .where(Verification.verified_at < end, WecomContact.added_at < end,
               or_(WecomContact.removed_at.is_(None), WecomContact.removed_at >= end),
               staff_clause(WecomContact.staff_id))
        .distinct()
    ).cte("covered_pairs")


def book_at(end: dt.datetime, staff_clause: Callable):
    """CTE of the book at instant ``end``: ``rm_id, customer_id, customer_ref, segment_id``."""
    o = CustomerOwnership
    return (
        select(o.rm_id, Customer.id.label("customer_id"), Customer.customer_ref,
               Customer.segment_id, Customer.aum_cny)
        .join(Customer, Customer.id == o.customer_id)
        .where(or_(o.valid_from.is_(None), o.valid_from < end),
               or_(o.valid_to.is_(None), o.valid_to >= end),
               staff_clause(o.rm_id))
    ).cte("book")


def staff_coverage(on: dt.date, staff_clause: Callable) -> list[CoverageRow]:
    """Coverage per RM and segment at the end of ``on`` (Asia/Shanghai) for staff in scope.

    :param on: the date.
    :param staff_clause: scope condition on the staff-id column (``DataScope.staff_clause``).
    :returns: rows with ``key`` the username, ordered by username and segment position;
        RMs without customers have no rows.
    """
    end = end_of_day(on)
    book = book_at(end, staff_clause)
    pairs = covered_pairs(end, staff_clause)
    covered = case((pairs.c.staff_id.is_not(None), 1), else_=0)
    totals = (
        select(book.c.rm_id, book.c.segment_id, func.count().label("customers"),
               func.sum(covered).label("covered"))
        .select_from(book)
        .outerjoin(pairs, and_(pairs.c.customer_ref == book.c.customer_ref,
                               pairs.c.staff_id == book.c.rm_id))
        .group_by(book.c.rm_id, book.c.segment_id)
    ).subquery("totals")  # grouped on integers first; names are joined to the few result rows
    rows = db.session.execute(
        select(User.id, User.username, User.display_name, Segment.code, totals.c.customers,
               totals.c.covered)
        .join(totals, totals.c.rm_id == User.id).join(Segment, Segment.id == totals.c.segment_id)
        .order_by(User.username, Segment.position))
    return [CoverageRow(r.username, r.code, int(r.customers), int(r.covered or 0),
                        r.display_name, r.id) for r in rows]


def branch_coverage(rows: list[CoverageRow], branches: list[Branch]) -> list[CoverageRow]:
    """Roll RM rows up to every branch in ``branches`` whose subtree holds the RM.

    :param rows: :func:`staff_coverage` rows.
    :param branches: the branches to report, e.g. a subtree ordered by path.
    :returns: one row per branch and segment that has customers, ``key`` the branch code,
        ordered as ``branches`` then by segment position.
    """
    staff_paths = dict(db.session.execute(
        select(User.id, Branch.path).join(Branch, Branch.id == User.branch_id)
        .where(User.id.in_({r.key_id for r in rows}))).all())
    by_id = {b.id: b for b in branches}
    totals: dict[tuple[int, str], list[int]] = {}
    for row in rows:
        for branch_id in (int(part) for part in staff_paths[row.key_id].strip("/").split("/")):
            if branch_id in by_id:
                total = totals.setdefault((branch_id, row.segment), [0, 0])
                total[0] += row.customers
                total[1] += row.covered
    order = {code: i for i, code in enumerate(segment_codes())}
    result = [CoverageRow(by_id[b].code, segment, n, covered, by_id[b].name, b)
              for (b, segment), (n, covered) in totals.items()]
    position = {b.id: i for i, b in enumerate(branches)}
    return sorted(result, key=lambda r: (position[r.key_id], order.get(r.segment, 99)))


def segment_codes() -> list[str]:
    """Segment codes in display order (configuration table ``segments``)."""
    return list(db.session.scalars(select(Segment.code).order_by(Segment.position, Segment.id)))


def segment_names() -> dict[str, str]:
    """Segment code → Chinese name, in display order."""
    return dict(db.session.execute(
        select(Segment.code, Segment.name).order_by(Segment.position, Segment.id)).all())
