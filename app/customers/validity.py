"""Valid adds 有效添加: every add judged by the bank's five rules, set-based in SQL.

An add is one row of ``wecom_contacts`` (staff, external_userid, added_at). It is valid when:

1. ``verified``: a verification links its external_userid to a customer id, verified no
   later than ``ADDS_VERIFICATION_GRACE_DAYS`` (7) days after the add (an earlier
   verification counts too: the customer was already verified); the earliest such record
   links the add;
2. ``customer``: that customer is in the book (reason ``not_customer``) and has an account
   here (reason ``no_account``);
3. ``own``: the customer belonged to this staff member's book at the add time
   (``customer_ownerships``; reason ``not_own_customer``);
4. ``first``: no earlier add of the same customer by any staff member (same external_userid,
   or another external_userid verified as the same customer; reason ``not_first_add``);
5. ``province``: per staff member and calendar month (Asia/Shanghai), among the adds passing
   1–4, those verified from an IP province other than the staff member's branch province stay
   valid only up to floor(``ADDS_OUT_OF_PROVINCE_QUOTA_RATE`` × the number passing 1–4),
   earliest first; the rest get ``out_of_province``. An unknown IP or branch province is
   never out of province.

Rules left out of ``ADDS_RULES`` do not apply. Months are computed whole (the quota needs
the month's adds) and the result is then cut to the requested dates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
    case,
    cast,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.orm import aliased

from app.customers.models import Customer, CustomerOwnership, Verification, WecomContact
from app.customers.sqltime import at_most_days_after, local_day_bounds, local_month
from app.org.models import Branch, User

#: Reason codes, in the order of the rules.
REASONS = ("not_verified", "not_customer", "no_account", "not_own_customer", "not_first_add",
           "out_of_province")
RULES = ("verified", "customer", "own", "first", "province")
REASON_LABELS = {
    "not_verified": "未在宽限期内完成实名认证",
    "not_customer": "认证客户号不在本行客户名单",
    "no_account": "客户未在本行开户",
    "not_own_customer": "添加时不是本人管户客户",
    "not_first_add": "非首次添加（此前已被添加过）",
    "out_of_province": "超出外省 IP 添加比例",
}


@dataclass(frozen=True)
class AddRules:
    """The bank's validity rules: grace in days, out-of-province quota, rules in force."""

    grace_days: int = 7
    out_of_province_quota_rate: float = 0.2
    enabled: frozenset[str] = frozenset(RULES)

    @classmethod
    def from_config(cls) -> AddRules:
        """Rules from ``ADDS_VERIFICATION_GRACE_DAYS``, ``…_QUOTA_RATE`` and ``ADDS_RULES``.

        :raises ValueError: an unknown rule name or a rate outside 0..1.
        """
        config = current_app.config
        enabled = frozenset(r.strip() for r in config["ADDS_RULES"].split(",") if r.strip())
        if enabled - set(RULES):
            raise ValueError(f"unknown ADDS_RULES: {sorted(enabled - set(RULES))}")
        rate = float(config["ADDS_OUT_OF_PROVINCE_QUOTA_RATE"])
        if not 0 <= rate <= 1:
            raise ValueError("ADDS_OUT_OF_PROVINCE_QUOTA_RATE must lie in 0..1")
        return cls(int(config["ADDS_VERIFICATION_GRACE_DAYS"]), rate, enabled)

    @property
    def quota_basis_points(self) -> int:
        """The quota rate in 1/10000, so the floor is integer arithmetic in SQL."""
        return round(self.out_of_province_quota_rate * 10_000)


def _month_window(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    first = start.replace(day=1)
    following = (end.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return first, following - dt.timedelta(days=1)


def _linked_verifications(adds, rules: AddRules):
    """CTE: for each add, the earliest verification within the grace (``rn`` = 1).

    Materialized on PostgreSQL: inlined, the planner (expecting one add) re-ran it for every
    add, 200 ms for a branch's month instead of 60 ms (bench/load_feed.sh's scorecard page).
    """
    return (
        select(adds.c.add_id, Verification.customer_ref, Verification.ip_province_code,
               func.row_number().over(partition_by=adds.c.add_id,
                                      order_by=(Verification.verified_at, Verification.id))
               .label("rn"))
        .join(Verification, Verification.external_userid == adds.c.external_userid)
        .where(at_most_days_after(Verification.verified_at, adds.c.added_at, rules.grace_days))
    ).cte("linked").prefix_with("MATERIALIZED", dialect="postgresql")


def _not_first(adds, linked) -> ColumnElement[bool]:
    """An earlier add of the same external_userid, or of another one verified as this customer."""
    earlier = aliased(WecomContact)
    same_contact = exists().where(
        earlier.external_userid == adds.c.external_userid,
        or_(earlier.added_at < adds.c.added_at,
            and_(earlier.added_at == adds.c.added_at, earlier.id < adds.c.add_id)))
    other = aliased(WecomContact)
    same_customer = exists().where(
        Verification.customer_ref == linked.c.customer_ref,
        other.external_userid == Verification.external_userid,
        other.external_userid != adds.c.external_userid,
        other.added_at < adds.c.added_at)
    return or_(same_contact, and_(linked.c.customer_ref.is_not(None), same_customer))


def _owned_at_add(adds) -> ColumnElement[bool]:
    o = CustomerOwnership
    return exists().where(
        o.customer_id == Customer.id, o.rm_id == adds.c.staff_id,
        or_(o.valid_from.is_(None), o.valid_from <= adds.c.added_at),
        or_(o.valid_to.is_(None), o.valid_to > adds.c.added_at))


def _flag(condition, rule: str, rules: AddRules):
    return case((condition, 1), else_=0) if rule in rules.enabled else literal(0)


def add_facts(start: dt.date, end: dt.date, staff_clause, rules: AddRules):
    """Select one row per add in ``[start, end]`` with its validity and reason flags.

    :param start: first Asia/Shanghai date of ``added_at``, inclusive.
    :param end: last date, inclusive.
    :param staff_clause: function of the staff-id column returning the scope condition
        (``DataScope.staff_clause``, or a staff member's own id).
    :param rules: the :class:`AddRules` in force.
    :returns: a ``Select`` with columns ``add_id, staff_id, username, external_userid,
        added_at, removed_at, contact_type, corp_name, customer_ref, ip_province_code, valid``
        and one 0/1 column per reason code.
    """
    zone = current_app.config["TIMEZONE"]
    low, high = local_day_bounds(*_month_window(start, end), zone)
    adds = (
        select(WecomContact.id.label("add_id"), WecomContact.staff_id, User.username,
               WecomContact.external_userid, WecomContact.added_at, WecomContact.removed_at,
               WecomContact.contact_type, WecomContact.corp_name,
               Branch.province_code.label("branch_province"),
               local_month(WecomContact.added_at, zone).label("month"))
        .join(User, User.id == WecomContact.staff_id)
        .join(Branch, Branch.id == User.branch_id)
        .where(WecomContact.added_at >= low, WecomContact.added_at < high,
               staff_clause(WecomContact.staff_id))
    ).cte("adds")
    linked = _linked_verifications(adds, rules)
    verified = linked.c.customer_ref.is_not(None)
    facts = (
        select(
            adds, linked.c.customer_ref, linked.c.ip_province_code,
            _flag(~verified, "verified", rules).label("not_verified"),
            _flag(and_(verified, Customer.id.is_(None)), "customer", rules).label("not_customer"),
            _flag(and_(Customer.id.is_not(None), Customer.has_account == false()), "customer",
                  rules).label("no_account"),
            _flag(and_(Customer.id.is_not(None), ~_owned_at_add(adds)), "own",
                  rules).label("not_own_customer"),
            _flag(_not_first(adds, linked), "first", rules).label("not_first_add"),
        )
        .outerjoin(linked, and_(linked.c.add_id == adds.c.add_id, linked.c.rn == 1))
        .outerjoin(Customer, Customer.customer_ref == linked.c.customer_ref)
    ).cte("facts")
    return _with_province_quota(facts, rules, start, end, zone)


def _with_province_quota(facts, rules: AddRules, start: dt.date, end: dt.date, zone: str):
    """Add ``out_of_province`` (quota per staff and month, earliest first) and ``valid``."""
    passing = case((facts.c.not_verified + facts.c.not_customer + facts.c.no_account
                    + facts.c.not_own_customer + facts.c.not_first_add == 0, 1), else_=0)
    is_out = case((and_(facts.c.ip_province_code.is_not(None),
                        facts.c.branch_province.is_not(None),
                        facts.c.ip_province_code != facts.c.branch_province), 1), else_=0)
    ranked = select(
        facts,
        passing.label("passing"), is_out.label("is_out"),
        func.sum(passing).over(partition_by=(facts.c.staff_id, facts.c.month)).label("n_passing"),
        func.row_number().over(partition_by=(facts.c.staff_id, facts.c.month, passing, is_out),
                               order_by=(facts.c.added_at, facts.c.add_id)).label("out_rank"),
    ).cte("ranked")
    over_quota = and_(ranked.c.passing == 1, ranked.c.is_out == 1,
                      ranked.c.out_rank * 10_000 > cast(ranked.c.n_passing, Integer)
                      * rules.quota_basis_points)
    out_of_province = _flag(over_quota, "province", rules)
    low, high = local_day_bounds(start, end, zone)
    return select(
        ranked.c.add_id, ranked.c.staff_id, ranked.c.username, ranked.c.external_userid,
        ranked.c.added_at, ranked.c.removed_at, ranked.c.contact_type, ranked.c.corp_name,
        ranked.c.customer_ref, ranked.c.ip_province_code,
        *[ranked.c[reason] for reason in REASONS[:-1]],
        out_of_province.label("out_of_province"),
        case((and_(ranked.c.passing == 1, out_of_province == 0), 1), else_=0).label("valid"),
    ).where(ranked.c.added_at >= low, ranked.c.added_at < high)


def whole_bank(column) -> ColumnElement[bool]:
    """Staff clause for no restriction (CLI without ``--branch``/``--staff``)."""
    return true()
