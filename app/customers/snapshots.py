"""Daily snapshots 日终快照: coverage per RM and segment, valid adds per staff month to date.

The manager's coverage page and the trend charts read these small tables (a few rows per
RM and day) instead of the raw book, contacts and verifications, so their cost grows with
the number of staff, not customers. ``flask scheduler run`` takes the snapshots once a day
(:func:`take_due_snapshots`, ``app.customers.jobs``); ``flask coverage snapshot --date D``
takes one by hand. Taking a date again overwrites its rows (idempotent per date).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import delete, func, select, true

from app.core.extensions import db
from app.core.upserts import upsert_rows
from app.customers.adds import StaffAdds, staff_adds_by_day
from app.customers.coverage import CoverageRow, staff_coverage
from app.customers.models import AddsSnapshot, CoverageSnapshot, Segment
from app.customers.validity import REASONS
from app.org.models import User

logger = logging.getLogger(__name__)
#: Days a scheduler that was down catches up on (older missing days stay missing).
CATCH_UP_DAYS = 7


@dataclass
class SnapshotCounts:
    """Rows written for one date: (RM, segment) coverage rows and staff adds rows."""

    date: dt.date
    coverage_rows: int
    adds_rows: int

    def as_dict(self) -> dict:
        """JSON shape printed by ``flask coverage snapshot``."""
        return {"date": self.date.isoformat(), "rows": self.coverage_rows,
                "adds_rows": self.adds_rows}


def take_snapshot(on: dt.date) -> SnapshotCounts:
    """Store the whole bank's coverage and month-to-date valid adds at the end of ``on``.

    Coverage per RM and segment as ``staff_coverage`` computes it at the end of ``on``
    (Asia/Shanghai); adds per staff member from the first of ``on``'s month to ``on`` as
    ``staff_summary`` judges them now. Idempotent: a second run for the same date
    overwrites that date's rows with the current figures. Flushes; the caller commits.

    :returns: the numbers of rows written.
    """
    return take_snapshots([on])[0]


def take_snapshots(dates: Iterable[dt.date]) -> list[SnapshotCounts]:
    """:func:`take_snapshot` for each of ``dates`` (a backfill), oldest first.

    The month-to-date adds of all the dates in one calendar month come from one query
    (``staff_adds_by_day``, summed day by day): the same rows as one ``staff_summary`` per
    date, at one query per month instead of one per date. Flushes; the caller commits.
    """
    dates = sorted(set(dates))
    adds = _month_to_date_adds(dates)
    return [_store(on, adds[on]) for on in dates]


def _month_to_date_adds(dates: list[dt.date]) -> dict[dt.date, list[StaffAdds]]:
    """Date → ``staff_summary(first of its month, date)`` for the whole bank."""
    result: dict[dt.date, list[StaffAdds]] = {}
    months: dict[dt.date, list[dt.date]] = {}
    for on in dates:
        months.setdefault(on.replace(day=1), []).append(on)
    for first, days in months.items():
        by_day = staff_adds_by_day(first, days[-1], _everyone)
        totals: dict[int, StaffAdds] = {}
        added = sorted(by_day.items())
        for on in days:
            while added and added[0][0] <= on:
                for row in added.pop(0)[1]:
                    _accumulate(totals, row)
            result[on] = sorted((StaffAdds(r.staff_id, r.staff, r.adds, r.valid_adds,
                                           dict(r.invalid)) for r in totals.values()),
                                key=lambda r: r.staff)
    return result


def _accumulate(totals: dict[int, StaffAdds], row: StaffAdds) -> None:
    total = totals.setdefault(row.staff_id, StaffAdds(row.staff_id, row.staff, 0, 0,
                                                      dict.fromkeys(REASONS, 0)))
    total.adds += row.adds
    total.valid_adds += row.valid_adds
    for reason, count in row.invalid.items():
        total.invalid[reason] += count


def _everyone(column):
    return true()


def _store(on: dt.date, adds: list[StaffAdds]) -> SnapshotCounts:
    """Replace ``on``'s coverage and adds rows: coverage computed now, ``adds`` as given."""
    segments = dict(db.session.execute(select(Segment.code, Segment.id)).all())
    coverage = [{"snapshot_date": on, "staff_id": r.key_id, "segment_id": segments[r.segment],
                 "customers": r.customers, "covered": r.covered}
                for r in staff_coverage(on, _everyone)]
    for model in (CoverageSnapshot, AddsSnapshot):  # rows of RMs gone since then go too
        db.session.execute(delete(model).where(model.snapshot_date == on))
    upsert_rows(CoverageSnapshot.__table__, coverage, ("snapshot_date", "staff_id", "segment_id"),
                ("customers", "covered"))
    rows = [{"snapshot_date": on, "staff_id": r.staff_id, "adds": r.adds,
             "valid_adds": r.valid_adds, **r.invalid} for r in adds]
    upsert_rows(AddsSnapshot.__table__, rows, ("snapshot_date", "staff_id"),
                ("adds", "valid_adds", *REASONS))
    logger.info("snapshot date=%s coverage_rows=%d adds_rows=%d", on, len(coverage), len(rows))
    return SnapshotCounts(on, len(coverage), len(rows))


def due_dates(today: dt.date) -> list[dt.date]:
    """Days before ``today`` without a snapshot yet, at most :data:`CATCH_UP_DAYS` back.

    Yesterday is always due when missing; a gap left by a scheduler that was down is filled
    up to a week back, oldest first.
    """
    first = today - dt.timedelta(days=CATCH_UP_DAYS)
    taken = set(db.session.scalars(
        select(CoverageSnapshot.snapshot_date).distinct()
        .where(CoverageSnapshot.snapshot_date.between(first, today - dt.timedelta(days=1)))))
    days = (first + dt.timedelta(days=n) for n in range(CATCH_UP_DAYS))
    return [day for day in days if day not in taken]


def latest_snapshot_date(on: dt.date) -> dt.date | None:
    """The latest date ≤ ``on`` with a coverage snapshot, ``None`` when there is none."""
    return db.session.scalar(select(func.max(CoverageSnapshot.snapshot_date))
                             .where(CoverageSnapshot.snapshot_date <= on))


def snapshot_coverage(on: dt.date, staff_clause: Callable) -> list[CoverageRow]:
    """Coverage per RM and segment as stored by :func:`take_snapshot` for ``on``.

    Same rows as ``staff_coverage`` computed at the end of that day, read from
    ``coverage_snapshots`` (a few rows per RM instead of the whole book).
    """
    s = CoverageSnapshot
    rows = db.session.execute(
        select(User.id, User.username, User.display_name, Segment.code, s.customers, s.covered)
        .join(User, User.id == s.staff_id).join(Segment, Segment.id == s.segment_id)
        .where(s.snapshot_date == on, s.customers > 0, staff_clause(s.staff_id))
        .order_by(User.username, Segment.position))
    return [CoverageRow(r.username, r.code, r.customers, r.covered, r.display_name, r.id)
            for r in rows]


def snapshot_adds(on: dt.date, staff_clause: Callable) -> list[StaffAdds]:
    """Month-to-date adds per staff member as stored by :func:`take_snapshot` for ``on``.

    :returns: the rows ``staff_summary(first of month, on, staff_clause)`` gave when the
        snapshot was taken, ordered by username.
    """
    s = AddsSnapshot
    rows = db.session.execute(
        select(s, User.username).join(User, User.id == s.staff_id)
        .where(s.snapshot_date == on, staff_clause(s.staff_id)).order_by(User.username))
    return [StaffAdds(r.AddsSnapshot.staff_id, r.username, r.AddsSnapshot.adds,
                      r.AddsSnapshot.valid_adds,
                      {reason: getattr(r.AddsSnapshot, reason) for reason in REASONS})
            for r in rows]


def coverage_trend(start: dt.date, end: dt.date, staff_clause: Callable) -> list[dict]:
    """Daily coverage per segment from the snapshots, summed over the staff in scope.

    :returns: ``[{"date", "segment", "customers", "covered", "coverage_rate"}]`` ordered by
        date and segment position; days without a snapshot are missing.
    """
    s = CoverageSnapshot
    totals = (
        select(s.snapshot_date, s.segment_id, func.sum(s.customers).label("customers"),
               func.sum(s.covered).label("covered"))
        .where(s.snapshot_date.between(start, end), staff_clause(s.staff_id))
        .group_by(s.snapshot_date, s.segment_id)
    ).subquery("totals")
    rows = db.session.execute(
        select(totals.c.snapshot_date, Segment.code, totals.c.customers, totals.c.covered)
        .join(Segment, Segment.id == totals.c.segment_id)
        .order_by(totals.c.snapshot_date, Segment.position))
    return [{"date": r.snapshot_date, "segment": r.code, "customers": int(r.customers),
             "covered": int(r.covered),
             "coverage_rate": int(r.covered) / int(r.customers) if r.customers else None}
            for r in rows]
