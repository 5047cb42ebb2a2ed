"""Customer measures on the scorecard: valid adds, coverage, verification rate of adds.

Valid adds and coverage are front-office process measures; the verification rate of adds is
a middle-office outcome (its add campaigns and verification link).

All figures come from ``app.customers`` (valid-adds rules and coverage in SQL).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from app.auth.permissions import DataScope
from app.customers.adds import StaffAdds, staff_summary
from app.customers.coverage import CoverageRow, segment_names, staff_coverage
from app.customers.services import segment_totals
from app.org.models import Branch


@dataclass
class CustomerMeasures:
    """Adds in the period (valid, verified) per staff member, and coverage at its end.

    ``verification_rate`` = adds verified within the grace ÷ adds; ``valid_rate`` = valid
    adds ÷ adds; both ``None`` without adds.
    """

    staff: list[StaffAdds]
    coverage: list[CoverageRow]
    segments: dict[str, str]

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


def customer_measures(branch: Branch | None, start: dt.date, end: dt.date) -> CustomerMeasures:
    """Valid adds and verification for ``[start, end]`` and coverage at ``end``, for a subtree.

    :param branch: subtree root already checked against the viewer's scope; ``None`` = bank.
    :param start: first Asia/Shanghai date of the add time, inclusive.
    :param end: last date, inclusive; coverage is taken at its end.
    """
    clause = (DataScope(branch_path=branch.path) if branch else DataScope(is_whole_bank=True)
              ).staff_clause
    return CustomerMeasures(staff=staff_summary(start, end, clause),
                            coverage=segment_totals(staff_coverage(end, clause)),
                            segments=segment_names())
