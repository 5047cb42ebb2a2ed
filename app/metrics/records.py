"""Result rows of the scorecard (plain dataclasses, built from SQL aggregate rows)."""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass, field


@dataclass(frozen=True)
class FrontOfficeRow:
    """Process measures 过程考核 of a staff member, a branch or the whole scope.

    Counts are tasks of posts in the range; ``reach`` is customers reached by done tasks;
    ``replies`` the summed quantity of ``reply`` events. Rates are fractions 0..1 or
    ``None`` when no task was assigned. ``measured_tasks`` counts tasks whose done time
    and reach WeCom measured (企业微信实测); the others are self-reported.
    """

    key: int | None
    label: str
    detail: str
    tasks_assigned: int
    tasks_done: int
    tasks_on_time: int
    execution_rate: float | None
    on_time_rate: float | None
    replies: int
    reach: int
    username: str = ""
    depth: int = 0
    measured_tasks: int = 0


@dataclass(frozen=True)
class MiddleOfficeRow:
    """Outcome measures 结果考核 of a content template, an SOP plan or the whole scope.

    ``reach`` is the sum of ``reach_count`` of done tasks; event counts are summed
    quantities; ``conversion_amount_cny`` is in yuan. Rates are fractions of reach
    (0..1 in practice), ``None`` when reach is 0. ``measured_tasks`` counts tasks whose
    reach, likes, comments and deletions WeCom measured (the rest are reported).
    """

    key: int | None
    label: str
    detail: str
    posts: int
    reach: int
    likes: int
    comments: int
    inquiries: int
    engagement_rate: float | None
    inquiry_rate: float | None
    blocks_deletes: int
    block_delete_rate: float | None
    conversions: int
    conversion_amount_cny: decimal.Decimal
    conversion_rate: float | None
    measured_tasks: int = 0


@dataclass(frozen=True)
class DailyPoint:
    """One run date of the chart series (rates as in the tables)."""

    run_date: dt.date
    tasks_assigned: int
    tasks_done: int
    reach: int
    execution_rate: float | None
    engagement_rate: float | None


@dataclass(frozen=True)
class Scorecard:
    """Both sides of the scorecard for one branch subtree and run-date range (inclusive)."""

    branch_id: int | None
    branch_name: str
    start: dt.date
    end: dt.date
    front_by_branch: list[FrontOfficeRow] = field(default_factory=list)
    front_by_staff: list[FrontOfficeRow] = field(default_factory=list)
    front_total: FrontOfficeRow | None = None
    middle_by_template: list[MiddleOfficeRow] = field(default_factory=list)
    middle_by_sop: list[MiddleOfficeRow] = field(default_factory=list)
    middle_total: MiddleOfficeRow | None = None
    daily: list[DailyPoint] = field(default_factory=list)


def _rate(value) -> float | None:
    return None if value is None else float(value)


def _money(value) -> decimal.Decimal:
    """Yuan amount rounded to fen; SQLite may hand back a float, PostgreSQL a Decimal."""
    return decimal.Decimal(str(value or 0)).quantize(decimal.Decimal("0.01"))


def front_row(row: dict, depth_from: str | None = None) -> FrontOfficeRow:
    """Build a ``FrontOfficeRow`` from an aggregate row (see ``app.metrics.queries``).

    :param depth_from: name of a column holding a branch path (``/1/3/``) to derive the
        row's tree depth from; ``None`` = depth 0.
    """
    path = row.get(depth_from) or "" if depth_from else ""
    return FrontOfficeRow(
        key=row["key"], label=row["label"], detail=row.get("detail") or "",
        tasks_assigned=int(row["tasks_assigned"]), tasks_done=int(row["tasks_done"]),
        tasks_on_time=int(row["tasks_on_time"]),
        execution_rate=_rate(row["execution_rate"]), on_time_rate=_rate(row["on_time_rate"]),
        replies=int(row["replies"]), reach=int(row["reach"]),
        username=row.get("username") or "", depth=max(path.count("/") - 2, 0),
        measured_tasks=int(row.get("measured_tasks") or 0),
    )


def middle_row(row: dict) -> MiddleOfficeRow:
    """Build a ``MiddleOfficeRow`` from an aggregate row (see ``app.metrics.queries``)."""
    return MiddleOfficeRow(
        key=row["key"], label=row["label"], detail=row.get("detail") or "",
        posts=int(row["posts"]), reach=int(row["reach"]), likes=int(row["likes"]),
        comments=int(row["comments"]), inquiries=int(row["inquiries"]),
        engagement_rate=_rate(row["engagement_rate"]), inquiry_rate=_rate(row["inquiry_rate"]),
        blocks_deletes=int(row["blocks_deletes"]),
        block_delete_rate=_rate(row["block_delete_rate"]),
        conversions=int(row["conversions"]),
        conversion_amount_cny=_money(row["conversion_amount_cny"]),
        conversion_rate=_rate(row["conversion_rate"]),
        measured_tasks=int(row.get("measured_tasks") or 0),
    )
