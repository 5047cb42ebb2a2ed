"""The demo seed's customer book: a few thousand customers, real coverage and some gaming."""

import datetime as dt

from sqlalchemy import func, select

from app.auth.permissions import DataScope
from app.core.extensions import db as _db
from app.customers.adds import add_details, staff_summary
from app.customers.coverage import staff_coverage
from app.customers.flags import flag_adds, flag_counts
from app.customers.models import CoverageSnapshot, Customer
from app.customers.services import segment_totals
from app.demo.seed import seed

END = dt.date(2025, 4, 25)


def test_seed_builds_a_book_with_coverage_and_flagged_adds(db):
    result = seed("pw", END, days=1)
    assert result.customers == 3600
    assert _db.session.scalar(select(func.count()).select_from(Customer)) == 3600
    everyone = DataScope(is_whole_bank=True).staff_clause
    totals = {row.segment: row for row in segment_totals(staff_coverage(END, everyone))}
    assert set(totals) == {"private", "vip", "payroll", "mass"}
    rate = sum(r.covered for r in totals.values()) / 3600
    assert 0.2 < rate < 0.6
    summary = staff_summary(END.replace(day=1), END, everyone)
    assert len(summary) == 36 and 0 < sum(s.valid_adds for s in summary) < sum(
        s.adds for s in summary)
    flags = flag_counts(flag_adds(add_details(END.replace(day=1), END, everyone)))
    assert all(flags[code] > 0 for code in ("cross_bank", "bought_followers", "colleague"))
    snapshots = _db.session.scalar(
        select(func.count(func.distinct(CoverageSnapshot.snapshot_date))))
    assert snapshots == 30
