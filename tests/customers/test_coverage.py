"""Coverage rate: definition cases, a random book recomputed from the raw rows, branch roll-up,
snapshots, targets and the CLI."""

from __future__ import annotations

import datetime as dt
import json
import random

import pytest
from sqlalchemy import select, true

from app.customers.coverage import branch_coverage, staff_coverage
from app.customers.models import (
    CoverageSnapshot,
    Customer,
    CustomerOwnership,
    Verification,
    WecomContact,
)
from app.customers.snapshots import coverage_trend, take_snapshot
from app.customers.targets import progress, set_target
from app.org.models import Branch
from tests import factories
from tests.customers.conftest import at, verified_add

ON = dt.date(2025, 4, 25)


def _rates(rows):
    return {(r.key, r.segment): (r.covered, r.customers) for r in rows}


def _everyone(column):
    return true()


def test_the_domain_example_ten_of_twenty_private_customers_is_half(bank):
    for i in range(20):
        customer = factories.CustomerFactory(rm=bank.rm_a, segment=factories.segment("private"))
        if i < 10:
            verified_add(bank.rm_a, at(1 + i), customer=customer)
    (row,) = staff_coverage(ON, lambda c: c == bank.rm_a.id)
    assert (row.key, row.segment, row.customers, row.covered, row.coverage_rate) == (
        "t_rm_a", "private", 20, 10, 0.5)


def test_what_does_not_cover_a_customer(bank):
    c = [factories.CustomerFactory(rm=bank.rm_a) for _ in range(6)]
    verified_add(bank.rm_a, at(1), customer=c[0])                           # covered
    verified_add(bank.rm_a, at(1), customer=c[1], removed_at=at(20))        # deleted
    verified_add(bank.rm_b, at(1), customer=c[2])                           # another RM follows
    verified_add(bank.rm_a, at(1), customer=c[3], verified_after=None)      # never verified
    verified_add(bank.rm_a, at(24), customer=c[4], verified_after=dt.timedelta(days=2))  # later
    verified_add(bank.rm_a, at(26), customer=c[5])                          # added after the date
    assert _rates(staff_coverage(ON, lambda col: col == bank.rm_a.id)) == {
        ("t_rm_a", "mass"): (1, 6)}
    later = staff_coverage(dt.date(2025, 4, 30), lambda col: col == bank.rm_a.id)
    assert _rates(later) == {("t_rm_a", "mass"): (3, 6)}


def test_a_reassigned_customer_counts_for_the_new_owner_only_when_they_follow_it(bank, db):
    customer = factories.CustomerFactory(rm=bank.rm_a)
    verified_add(bank.rm_a, at(1), customer=customer)
    db.session.query(CustomerOwnership).filter_by(customer_id=customer.id).update(
        {"valid_to": at(10)})
    db.session.add(CustomerOwnership(customer_id=customer.id, rm_id=bank.rm_b.id,
                                     valid_from=at(10)))
    db.session.flush()
    scope = lambda col: col.in_([bank.rm_a.id, bank.rm_b.id])  # noqa: E731
    assert _rates(staff_coverage(dt.date(2025, 4, 5), scope)) == {("t_rm_a", "mass"): (1, 1)}
    assert _rates(staff_coverage(ON, scope)) == {("t_rm_b", "mass"): (0, 1)}


def _naive_coverage(db, on_end):
    """Coverage recomputed in Python from the raw rows, straight from the definition."""
    owners = {}
    for o in db.session.scalars(select(CustomerOwnership)):
        if (o.valid_from is None or o.valid_from < on_end) and (
                o.valid_to is None or o.valid_to >= on_end):
            owners[o.customer_id] = o.rm_id
    verified = {}
    for v in db.session.scalars(select(Verification)):
        if v.verified_at < on_end:
            verified.setdefault(v.customer_ref, set()).add(v.external_userid)
    followed = {(c.staff_id, c.external_userid) for c in db.session.scalars(select(WecomContact))
                if c.added_at < on_end and (c.removed_at is None or c.removed_at >= on_end)}
    result = {}
    for customer in db.session.scalars(select(Customer)):
        rm_id = owners.get(customer.id)
        if rm_id is None:
            continue
        key = (rm_id, customer.segment.code)
        covered = any((rm_id, ext) in followed for ext in verified.get(customer.customer_ref, ()))
        n, k = result.get(key, (0, 0))
        result[key] = (n + 1, k + int(covered))
    return result


@pytest.mark.parametrize("seed", [1, 2])
def test_coverage_recomputed_from_the_raw_rows(bank, db, seed):
    rng = random.Random(seed)
    rms = [bank.rm_a, bank.rm_b, bank.rm_c]
    segments = [factories.segment(code) for code in ("private", "vip", "payroll", "mass")]
    for _ in range(120):
        owner = rng.choice(rms)
        customer = factories.CustomerFactory(rm=owner, segment=rng.choice(segments))
        for _ in range(rng.choice([0, 1, 1, 2])):
            follower = owner if rng.random() < 0.8 else rng.choice(rms)
            added = at(rng.randint(1, 28), rng.randint(0, 23))
            removed = added + dt.timedelta(days=rng.randint(1, 10)) if rng.random() < 0.2 else None
            verify = dt.timedelta(hours=rng.randint(0, 200)) if rng.random() < 0.7 else None
            verified_add(follower, added, customer=customer, verified_after=verify,
                         removed_at=removed)
    end = at(26, 0)  # end of 25 April, Beijing time
    expected = {(rm_id, segment): (covered, n)
                for (rm_id, segment), (n, covered) in _naive_coverage(db, end).items()}
    got = {(r.key_id, r.segment): (r.covered, r.customers) for r in staff_coverage(ON, _everyone)}
    assert got == expected
    assert sum(k for k, _ in got.values()) > 10  # the population covers some customers


def test_branch_rows_roll_the_rms_up_their_subtrees(bank, db):
    for rm, covered in ((bank.rm_a, 2), (bank.rm_b, 1), (bank.rm_c, 0)):
        for i in range(3):
            customer = factories.CustomerFactory(rm=rm)
            if i < covered:
                verified_add(rm, at(1), customer=customer)
    rows = staff_coverage(ON, _everyone)
    branches = db.session.scalars(select(Branch).where(Branch.code.like("T-%"))
                                  .order_by(Branch.path)).all()
    assert _rates(branch_coverage(rows, branches)) == {
        ("T-HQ", "mass"): (3, 9), ("T-HZ", "mass"): (3, 9), ("T-XH", "mass"): (3, 6),
        ("T-BJ", "mass"): (0, 3)}


def test_coverage_report_cli(bank, runner):
    customer = factories.CustomerFactory(rm=bank.rm_c, segment=factories.segment("vip"))
    verified_add(bank.rm_c, at(1), customer=customer)
    factories.CustomerFactory(rm=bank.rm_c, segment=factories.segment("vip"))
    factories.CustomerFactory(rm=bank.rm_a, segment=factories.segment("private"))
    result = runner.invoke(args=["coverage", "report", "--date", "2025-04-25", "--branch", "T-BJ"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "rows": [{"staff": "t_rm_c", "segment": "vip", "customers": 2, "covered": 1,
                  "coverage_rate": 0.5}],
        "branches": [{"branch": "T-BJ", "segment": "vip", "customers": 2, "covered": 1,
                      "coverage_rate": 0.5}]}


def test_snapshots_are_idempotent_and_feed_the_trend(bank, db):
    customer = factories.CustomerFactory(rm=bank.rm_a)
    factories.CustomerFactory(rm=bank.rm_a)
    verified_add(bank.rm_a, at(24), customer=customer)
    take_snapshot(dt.date(2025, 4, 23))
    take_snapshot(dt.date(2025, 4, 24))
    take_snapshot(dt.date(2025, 4, 24))
    mine = lambda col: col == bank.rm_a.id  # noqa: E731
    assert db.session.query(CoverageSnapshot).filter_by(staff_id=bank.rm_a.id).count() == 2
    trend = coverage_trend(dt.date(2025, 4, 1), ON, mine)
    assert [(p["date"].day, p["segment"], p["covered"], p["customers"]) for p in trend] == [
        (23, "mass", 0, 2), (24, "mass", 1, 2)]


def test_targets_and_progress_per_rm(bank):
    for i in range(10):
        customer = factories.CustomerFactory(rm=bank.rm_a, segment=factories.segment("private"))
        if i < 3:
            verified_add(bank.rm_a, at(1), customer=customer)
    set_target("private", dt.date(2025, 4, 1), dt.date(2025, 6, 30), 0.55)
    (item,) = progress(ON, staff_coverage(ON, lambda col: col == bank.rm_a.id))
    assert (item.target_rate, item.customers_needed) == (0.55, 3)
    assert progress(dt.date(2025, 7, 1), [item.row])[0].target_rate is None
    from app.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        set_target("gold", dt.date(2025, 4, 1), dt.date(2025, 6, 30), 0.5)


def test_snapshot_rows_equal_the_live_rows_and_feed_the_page(bank, db):
    from app.customers.services import coverage_overview
    from app.customers.snapshots import snapshot_coverage

    for i in range(6):
        customer = factories.CustomerFactory(rm=[bank.rm_a, bank.rm_c][i % 2],
                                             segment=factories.segment("vip"))
        if i < 3:
            verified_add(customer.rm, at(1), customer=customer)
    live = staff_coverage(ON, _everyone)
    take_snapshot(ON)
    assert [vars(r) for r in snapshot_coverage(ON, _everyone)] == [vars(r) for r in live]
    manager = factories.UserFactory(role="manager", branch=bank.branch)
    later = dt.date(2025, 4, 27)
    verified_add(bank.rm_c, at(26), customer=factories.CustomerFactory(rm=bank.rm_c))
    from_snapshot = coverage_overview(manager, None, later)
    assert from_snapshot.as_of == ON
    assert sum(r.customers for r in from_snapshot.totals) == 6
    fresh = coverage_overview(manager, None, later, live=True)
    assert fresh.as_of is None and sum(r.customers for r in fresh.totals) == 7
