"""What the customers pages show, for a viewer and within their data scope.

Managers (and head office) read coverage and valid adds of a branch subtree and drill down
to one RM's adds with flags; an RM reads their own coverage, follow-up list and adds. Every
function asks ``app.auth.permissions`` (``require``, ``branch_in_scope``, ``scope``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from app.auth.permissions import Action, DataScope, branch_in_scope, require, scope
from app.core.errors import NotFound
from app.core.extensions import db
from app.customers.adds import AddDetail, StaffAdds, add_details, staff_summary
from app.customers.coverage import (
    CoverageRow,
    book_at,
    branch_coverage,
    end_of_day,
    is_covered,
    segment_names,
    staff_coverage,
)
from app.customers.flags import flag_adds
from app.customers.models import Segment
from app.customers.snapshots import (
    coverage_trend,
    latest_snapshot_date,
    snapshot_adds,
    snapshot_coverage,
)
from app.customers.targets import Progress, progress
from app.org.models import Branch, BranchLevel, User
from app.org.services import in_subtree, tree_order

#: AUM bands 资产段 shown instead of amounts on the follow-up list (upper bounds in CNY).
AUM_BANDS = [(Decimal(50_000), "5万以下"), (Decimal(500_000), "5万–50万"),
             (Decimal(6_000_000), "50万–600万")]
FOLLOW_UP_LIMIT = 200
#: Days shown by the coverage trend charts (manager's subtree, RM's phone page).
TREND_DAYS = 30


def aum_band(aum_cny: Decimal) -> str:
    """The AUM band label of an amount in CNY (600万 is the usual private-banking threshold)."""
    for upper, label in AUM_BANDS:
        if aum_cny < upper:
            return label
    return "600万以上"


def month_start(on: dt.date) -> dt.date:
    """First day of ``on``'s month (月考核 runs month to date)."""
    return on.replace(day=1)


def segment_totals(rows: list[CoverageRow]) -> list[CoverageRow]:
    """RM rows summed per segment (``key`` empty), in segment order."""
    totals: dict[str, CoverageRow] = {code: CoverageRow("", code, 0, 0) for code in segment_names()}
    for row in rows:
        totals[row.segment].customers += row.customers
        totals[row.segment].covered += row.covered
    return [row for row in totals.values() if row.customers]


@dataclass
class CoverageOverview:
    """A manager's coverage page: totals, sub-branch × segment cells, RM progress, adds."""

    branch: Branch | None
    on: dt.date
    as_of: dt.date | None  # the snapshot date the figures come from; None = computed live
    totals: list[CoverageRow]
    cells: list[CoverageRow]
    branches: list[Branch]
    staff: list[Progress]
    adds: list[StaffAdds]
    segments: dict[str, str]

    @property
    def branch_name(self) -> str:
        """Name of the subtree root, 全行 for the whole bank."""
        return self.branch.name if self.branch else "全行"

    @property
    def adds_through(self) -> dt.date:
        """Last day of the month-to-date adds shown: the snapshot date, or ``on`` live."""
        return self.as_of or self.on


def subtree_branches(branch: Branch | None, viewer_scope: DataScope) -> list[Branch]:
    """Branches inside ``viewer_scope`` (and ``branch``'s subtree when given), in ``tree_order``."""
    statement = select(Branch).where(viewer_scope.branch_clause())
    if branch is not None:
        statement = statement.where(in_subtree(branch.path))
    return tree_order(db.session.scalars(statement))


def coverage_overview(viewer: User, branch_id: int | None, on: dt.date,
                      live: bool = False) -> CoverageOverview:
    """Coverage and valid adds (month to date) of a branch subtree at the end of ``on``.

    Coverage and the month-to-date valid adds come from the latest daily snapshot on or
    before ``on`` (日终数据, as banks report it: a few rows per RM, so a branch page costs the
    same at 100,000 or 10 million customers), or are computed from the raw rows when
    ``live`` or when there is no snapshot yet. ``as_of`` says which.

    :raises PermissionDenied: the viewer may not read coverage, or not that branch.
    :raises NotFound: no such branch.
    """
    branch = branch_in_scope(viewer, Action.read_coverage, branch_id)
    clause = (DataScope(branch_path=branch.path) if branch else scope(viewer)).staff_clause
    as_of = None if live else latest_snapshot_date(on)
    if as_of:
        rows, adds = snapshot_coverage(as_of, clause), snapshot_adds(as_of, clause)
    else:
        rows, adds = staff_coverage(on, clause), staff_summary(month_start(on), on, clause)
    branches = subtree_branches(branch, scope(viewer))
    heat = [b for b in branches if b.level is BranchLevel.sub_branch] or branches[:1]
    return CoverageOverview(
        branch=branch, on=on, as_of=as_of, totals=segment_totals(rows),
        cells=branch_coverage(rows, heat), branches=heat, staff=progress(as_of or on, rows),
        adds=adds, segments=segment_names())


@dataclass
class CoverageTrend:
    """Coverage rate per segment over the last days, from the daily snapshots."""

    title: str
    points: list[dict]  # ``app.customers.snapshots.coverage_trend`` rows
    segments: dict[str, str]


def subtree_trend(viewer: User, branch_id: int | None, on: dt.date,
                  days: int = TREND_DAYS) -> CoverageTrend:
    """Coverage per segment of a branch subtree for the ``days`` days ending ``on``.

    :raises PermissionDenied: the viewer may not read coverage, or not that branch.
    :raises NotFound: no such branch.
    """
    branch = branch_in_scope(viewer, Action.read_coverage, branch_id)
    clause = (DataScope(branch_path=branch.path) if branch else scope(viewer)).staff_clause
    name = branch.name if branch else "全行"
    return CoverageTrend(f"{name} 覆盖率趋势（近 {days} 日）",
                         coverage_trend(on - dt.timedelta(days=days - 1), on, clause),
                         segment_names())


def my_trend(viewer: User, on: dt.date, days: int = TREND_DAYS) -> CoverageTrend:
    """An RM's own coverage per segment for the ``days`` days ending ``on``.

    :raises PermissionDenied: the viewer's role has no customer book.
    """
    require(viewer, Action.use_customer_book)
    return CoverageTrend(f"我的覆盖率趋势（近 {days} 日）",
                         coverage_trend(on - dt.timedelta(days=days - 1), on,
                                        lambda column: column == viewer.id),
                         segment_names())


@dataclass
class StaffPage:
    """One RM seen by a manager, or by themselves: coverage, adds this month with flags."""

    user: User
    on: dt.date
    coverage: list[Progress]
    adds: list[AddDetail]
    follow_up: list[dict]
    segments: dict[str, str]


def _staff_in_scope(viewer: User, user_id: int) -> User:
    user = db.session.scalar(select(User).where(User.id == user_id,
                                                scope(viewer).staff_clause(User.id)))
    if user is None:
        raise NotFound("员工不存在或不在您的管辖范围内")
    return user


def staff_page(viewer: User, user_id: int, on: dt.date) -> StaffPage:
    """A manager's drill-down to one RM: coverage per segment and adds with flags, month to date.

    :raises PermissionDenied: the viewer may not read coverage.
    :raises NotFound: no such user inside the viewer's scope (never says which).
    """
    require(viewer, Action.read_coverage)
    user = _staff_in_scope(viewer, user_id)
    return _page(user, on, follow_up=False)


def my_book(viewer: User, on: dt.date) -> StaffPage:
    """An RM's own page: coverage, customers not yet added or verified, adds this month.

    :raises PermissionDenied: the viewer's role has no customer book.
    """
    require(viewer, Action.use_customer_book)
    return _page(viewer, on, follow_up=True)


def _page(user: User, on: dt.date, follow_up: bool) -> StaffPage:
    mine = lambda column: column == user.id  # noqa: E731
    adds = flag_adds(add_details(month_start(on), on, mine))
    return StaffPage(user=user, on=on, coverage=progress(on, staff_coverage(on, mine)),
                     adds=adds, follow_up=follow_up_list(user.id, on) if follow_up else [],
                     segments=segment_names())


def follow_up_list(rm_id: int, on: dt.date, limit: int = FOLLOW_UP_LIMIT) -> list[dict]:
    """Customers in ``rm_id``'s book not yet covered (added and verified) at the end of ``on``.

    :returns: up to ``limit`` dicts ``{"customer_ref", "segment", "aum_band"}``, most valuable
        segments first, then by AUM (highest first). Pseudonymous: ids only.
    """
    end = end_of_day(on)
    book = book_at(end, lambda column: column == rm_id)
    rows = db.session.execute(
        select(book.c.customer_ref, Segment.code, book.c.aum_cny)
        .join(Segment, Segment.id == book.c.segment_id)
        .where(~is_covered(book, end))
        .order_by(Segment.position, book.c.aum_cny.desc(), book.c.customer_ref)
        .limit(limit))
    return [{"customer_ref": r.customer_ref, "segment": r.code, "aum_band": aum_band(r.aum_cny)}
            for r in rows]
