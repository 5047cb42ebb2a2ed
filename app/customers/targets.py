"""Daily coverage snapshots (for trends) and coverage targets per segment and period."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select, true

from app.core.errors import ValidationFailed
from app.core.extensions import db
from app.core.upserts import upsert_rows
from app.customers.coverage import CoverageRow, staff_coverage
from app.customers.models import CoverageSnapshot, CoverageTarget, Segment
from app.org.models import User


def take_snapshot(on: dt.date) -> int:
    """Store the whole bank's coverage per RM and segment at the end of ``on`` (idempotent).

    :returns: the number of (RM, segment) rows written; a second run for the same date
        overwrites them with the current figures.
    """
    segments = dict(db.session.execute(select(Segment.code, Segment.id)).all())
    rows = [{"snapshot_date": on, "staff_id": r.key_id, "segment_id": segments[r.segment],
             "customers": r.customers, "covered": r.covered}
            for r in staff_coverage(on, lambda column: true())]
    upsert_rows(CoverageSnapshot.__table__, rows, ("snapshot_date", "staff_id", "segment_id"),
                ("customers", "covered"))
    return len(rows)


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


def coverage_trend(start: dt.date, end: dt.date, staff_clause: Callable) -> list[dict]:
    """Daily coverage per segment from the snapshots, summed over the staff in scope.

    :returns: ``[{"date", "segment", "customers", "covered", "coverage_rate"}]`` ordered by
        date and segment position; days without a snapshot are missing.
    """
    s = CoverageSnapshot
    rows = db.session.execute(
        select(s.snapshot_date, Segment.code, func.sum(s.customers).label("customers"),
               func.sum(s.covered).label("covered"))
        .join(Segment, Segment.id == s.segment_id)
        .where(s.snapshot_date.between(start, end), staff_clause(s.staff_id))
        .group_by(s.snapshot_date, Segment.code, Segment.position)
        .order_by(s.snapshot_date, Segment.position))
    return [{"date": r.snapshot_date, "segment": r.code, "customers": int(r.customers),
             "covered": int(r.covered),
             "coverage_rate": int(r.covered) / int(r.customers) if r.customers else None}
            for r in rows]


def set_target(segment_code: str, start: dt.date, end: dt.date, target_rate: float) -> None:
    """Set the coverage target of a segment for ``[start, end]`` (replaces one with that start).

    :raises ValidationFailed: unknown segment, rate outside 0..1, end before start.
    """
    segment_id = db.session.scalar(select(Segment.id).where(Segment.code == segment_code))
    if segment_id is None:
        raise ValidationFailed(f"客群不存在：{segment_code}")
    if not 0 <= target_rate <= 1 or end < start:
        raise ValidationFailed("目标覆盖率须在 0 到 1 之间，且结束日期不早于开始日期")
    upsert_rows(CoverageTarget.__table__, [{"segment_id": segment_id, "start_date": start,
                                            "end_date": end, "target_rate": target_rate}],
                ("segment_id", "start_date"), ("end_date", "target_rate"))


def targets_on(on: dt.date) -> dict[str, float]:
    """Segment code → target rate in force on ``on`` (latest start wins if periods overlap)."""
    rows = db.session.execute(
        select(Segment.code, CoverageTarget.target_rate)
        .join(Segment, Segment.id == CoverageTarget.segment_id)
        .where(CoverageTarget.start_date <= on, CoverageTarget.end_date >= on)
        .order_by(CoverageTarget.start_date))
    return {code: rate for code, rate in rows}


@dataclass
class Progress:
    """An RM's coverage of a segment against its target: rate, target, customers still needed."""

    row: CoverageRow
    target_rate: float | None

    @property
    def customers_needed(self) -> int | None:
        """Covered customers still missing to reach the target (0 when reached)."""
        if self.target_rate is None:
            return None
        needed = -(-round(self.target_rate * self.row.customers * 10_000) // 10_000)
        return max(0, needed - self.row.covered)

    def as_dict(self) -> dict:
        """``coverage progress`` JSON row."""
        return {**self.row.as_dict("staff"), "target_rate": self.target_rate,
                "customers_needed": self.customers_needed}


def progress(on: dt.date, rows: list[CoverageRow]) -> list[Progress]:
    """Pair each coverage row with the target of its segment in force on ``on``."""
    targets = targets_on(on)
    return [Progress(row, targets.get(row.segment)) for row in rows]
