"""Coverage targets per segment and period, and each RM's progress against them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from app.core.errors import ValidationFailed
from app.core.extensions import db
from app.core.upserts import upsert_rows
from app.customers.coverage import CoverageRow
from app.customers.models import CoverageTarget, Segment


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
