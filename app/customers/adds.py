"""Valid-adds reports: per staff member and, on request, per add with reasons and flags."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import func, select

from app.core.clock import to_local
from app.core.extensions import db
from app.customers.sqltime import as_date, local_date
from app.customers.validity import REASONS, AddRules, add_facts


@dataclass
class StaffAdds:
    """One staff member's adds in a period: total, valid, and invalid adds per reason."""

    staff_id: int
    staff: str
    adds: int
    valid_adds: int
    invalid: dict[str, int]

    def as_dict(self) -> dict:
        """JSON shape of the ``adds report`` contract."""
        return {"staff": self.staff, "adds": self.adds, "valid_adds": self.valid_adds,
                "invalid": self.invalid}


@dataclass
class AddDetail:
    """One add: who, whom, when (Asia/Shanghai), valid or not, reason codes, flag codes."""

    add_id: int
    external_userid: str
    staff: str
    added_at: dt.datetime
    customer_ref: str | None
    valid: bool
    reasons: list[str]
    staff_id: int = 0
    removed_at: dt.datetime | None = None
    contact_type: int = 1
    corp_name: str | None = None
    ip_province_code: str | None = None
    flags: list = field(default_factory=list)  # app.customers.flags.Flag

    def as_dict(self) -> dict:
        """JSON shape of the ``adds report --details`` contract."""
        return {"external_userid": self.external_userid, "staff": self.staff,
                "add_time": to_local(self.added_at).isoformat(), "valid": self.valid,
                "reasons": self.reasons, "flags": [flag.code for flag in self.flags]}


def staff_summary(start: dt.date, end: dt.date, staff_clause: Callable,
                  rules: AddRules | None = None) -> list[StaffAdds]:
    """Adds, valid adds and invalid adds per reason for each staff member with adds.

    :param start: first Asia/Shanghai date of the add time, inclusive.
    :param end: last date, inclusive.
    :param staff_clause: scope condition on the staff-id column (``DataScope.staff_clause``).
    :param rules: default :meth:`AddRules.from_config`.
    :returns: one :class:`StaffAdds` per staff member, ordered by username; ``invalid`` holds
        every reason code (0 when none).
    """
    facts = add_facts(start, end, staff_clause, rules or AddRules.from_config()).subquery()
    rows = db.session.execute(
        select(*_counts(facts)).group_by(facts.c.staff_id, facts.c.username)
        .order_by(facts.c.username))
    return [_staff_adds(r) for r in rows]


def staff_adds_by_day(start: dt.date, end: dt.date, staff_clause: Callable,
                      rules: AddRules | None = None) -> dict[dt.date, list[StaffAdds]]:
    """:func:`staff_summary` split by the Asia/Shanghai date of the add, in one query.

    Validity is judged over whole calendar months as in :func:`staff_summary`, so summing a
    staff member's days ``start..d`` gives ``staff_summary(start, d)`` for any ``d ≤ end``.

    :returns: date → the staff members with adds that day (ordered by username); days
        without adds are missing.
    """
    rules = rules or AddRules.from_config()
    facts = add_facts(start, end, staff_clause, rules).subquery()
    day = local_date(facts.c.added_at, current_app.config["TIMEZONE"]).label("day")
    rows = db.session.execute(
        select(day, *_counts(facts)).group_by(day, facts.c.staff_id, facts.c.username)
        .order_by(day, facts.c.username))
    by_day: dict[dt.date, list[StaffAdds]] = {}
    for r in rows:
        by_day.setdefault(as_date(r.day), []).append(_staff_adds(r))
    return by_day


def _counts(facts) -> list:
    return [facts.c.staff_id, facts.c.username, func.count().label("adds"),
            func.sum(facts.c.valid).label("valid_adds"),
            *[func.sum(facts.c[reason]).label(reason) for reason in REASONS]]


def _staff_adds(row) -> StaffAdds:
    return StaffAdds(row.staff_id, row.username, int(row.adds), int(row.valid_adds or 0),
                     {reason: int(row._mapping[reason] or 0) for reason in REASONS})


def add_details(start: dt.date, end: dt.date, staff_clause: Callable,
                rules: AddRules | None = None, limit: int | None = None) -> list[AddDetail]:
    """Every add in the period with its validity and reason codes, by staff and add time.

    :param limit: at most this many adds (pages), ``None`` for all.
    :returns: :class:`AddDetail` rows; ``flags`` is left empty (``app.customers.flags``
        fills it: :func:`flagged_details`).
    """
    facts = add_facts(start, end, staff_clause, rules or AddRules.from_config()).subquery()
    statement = select(facts).order_by(facts.c.username, facts.c.added_at, facts.c.add_id)
    if limit is not None:
        statement = statement.limit(limit)
    return [AddDetail(r.add_id, r.external_userid, r.username, r.added_at, r.customer_ref,
                      bool(r.valid), [reason for reason in REASONS if r._mapping[reason]],
                      r.staff_id, r.removed_at, r.contact_type, r.corp_name, r.ip_province_code)
            for r in db.session.execute(statement)]
