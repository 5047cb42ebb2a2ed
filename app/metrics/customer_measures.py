"""Customer measures on the scorecard: valid adds, coverage, verification rate of adds.

Valid adds and coverage are front-office process measures; the verification rate of adds is
a middle-office outcome (its add campaigns and verification link).

All figures come from ``app.customers`` (valid-adds rules and coverage in SQL).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select

from app.auth.permissions import DataScope
from app.core.extensions import db
from app.customers.adds import StaffAdds, staff_summary
from app.customers.coverage import CoverageRow, segment_names, staff_coverage
from app.customers.services import segment_totals
from app.org.models import Branch, Role, User


@dataclass
class CustomerMeasures:
    """Adds in the period (valid, verified) per staff member, and coverage at its end.

    ``verification_rate`` = adds verified within the grace ÷ adds; ``valid_rate`` = valid
    adds ÷ adds; both ``None`` without adds. ``adds_target`` is the valid adds asked of the
    subtree's active front-line staff over the period: ``ADDS_MONTHLY_TARGET`` per person and
    calendar month, prorated by day (a day, a week or a month: 日跟踪、周通报、月考核);
    ``None`` without staff or target.
    """

    staff: list[StaffAdds]
    coverage: list[CoverageRow]
    segments: dict[str, str]
    adds_target: float | None = None

    @property
    def adds(self) -> int:
        """All adds in the period."""
        return sum(row.adds for row in self.staff)

    @property
    def valid_adds(self) -> int:
        """Adds that count under the bank's rules."""
        return sum(row.valid_adds for row in self.staff)

    @property
    def verification_rate(self) -> float | None:
        """Share of adds verified within the grace (middle-office outcome)."""
        unverified = sum(row.invalid["not_verified"] for row in self.staff)
        return (self.adds - unverified) / self.adds if self.adds else None

    @property
    def valid_rate(self) -> float | None:
        """Share of adds that are valid."""
        return self.valid_adds / self.adds if self.adds else None

    @property
    def target_rate(self) -> float | None:
        """Valid adds ÷ the period's target (may exceed 1); ``None`` without a target."""
        return self.valid_adds / self.adds_target if self.adds_target else None


def customer_measures(branch: Branch | None, start: dt.date, end: dt.date,
                      monthly_target: int = 0) -> CustomerMeasures:
    """Valid adds and verification for ``[start, end]`` and coverage at ``end``, for a subtree.

    :param branch: subtree root already checked against the viewer's scope; ``None`` = bank.
    :param start: first Asia/Shanghai date of the add time, inclusive.
    :param end: last date, inclusive; coverage is taken at its end.
    :param monthly_target: valid adds asked of each front-line user per calendar month
        (``ADDS_MONTHLY_TARGET``); 0 = no target.
    """
    clause = (DataScope(branch_path=branch.path) if branch else DataScope(is_whole_bank=True)
              ).staff_clause
    return CustomerMeasures(staff=staff_summary(start, end, clause),
                            coverage=segment_totals(staff_coverage(end, clause)),
                            segments=segment_names(),
                            adds_target=adds_target(clause, start, end, monthly_target))


def adds_target(staff_clause, start: dt.date, end: dt.date, monthly_target: int) -> float | None:
    """Valid adds asked over ``[start, end]`` of the front-line staff ``staff_clause`` selects.

    ``monthly_target`` each per calendar month, prorated by day: each day of the period
    counts 1 / (days of its month), so a week across two months takes from both.

    :returns: the target in adds, or ``None`` when there is no target or no such staff.
    """
    if monthly_target <= 0:
        return None
    staff = db.session.scalar(select(func.count()).select_from(User).where(
        staff_clause(User.id), User.role == Role.frontline, User.is_active_account.is_(True)))
    if not staff:
        return None
    months, day = 0.0, start
    while day <= end:
        month_days = calendar.monthrange(day.year, day.month)[1]
        last = min(end, day.replace(day=month_days))
        months += ((last - day).days + 1) / month_days
        day = last + dt.timedelta(days=1)
    return monthly_target * staff * months
