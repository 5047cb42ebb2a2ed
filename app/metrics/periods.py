"""Reporting periods of the scorecard: 日跟踪 (daily), 周通报 (weekly), 月考核 (monthly), custom."""

from __future__ import annotations

import datetime as dt
import enum

from app.core.errors import ValidationFailed

#: Longest custom range accepted, in days (inclusive), to keep the query bounded.
MAX_RANGE_DAYS = 366


class Period(enum.Enum):
    """A period preset, relative to an end date (a business date in Asia/Shanghai)."""

    daily = "daily"
    weekly = "weekly"
    monthly = "monthly"
    custom = "custom"


PERIOD_LABELS = {
    Period.daily: "日跟踪",
    Period.weekly: "周通报",
    Period.monthly: "月考核",
    Period.custom: "自定义",
}


def period_range(
    period: Period, end: dt.date, start: dt.date | None = None
) -> tuple[dt.date, dt.date]:
    """Turn a preset into an inclusive range of post run dates.

    - ``daily``: ``end`` only;
    - ``weekly``: the ISO week containing ``end``, Monday up to ``end``
      (e.g. end 2025-04-25, a Friday → 2025-04-21 .. 2025-04-25);
    - ``monthly``: the 1st of ``end``'s month up to ``end``;
    - ``custom``: ``start`` .. ``end`` as given.

    :param period: the preset.
    :param end: last run date of the range (calendar date, Asia/Shanghai business date).
    :param start: first run date; required for ``custom``, ignored otherwise.
    :returns: ``(start, end)``, both inclusive, ``start <= end``.
    :raises ValidationFailed: custom without ``start``, ``start`` after ``end``, or a range
        longer than ``MAX_RANGE_DAYS``; errors keyed by field name ``start``.
    """
    if period is Period.daily:
        return end, end
    if period is Period.weekly:
        return end - dt.timedelta(days=end.isoweekday() - 1), end
    if period is Period.monthly:
        return end.replace(day=1), end
    if start is None:
        raise ValidationFailed("自定义区间需要开始日期", {"start": ["请填写开始日期"]})
    if start > end:
        raise ValidationFailed("开始日期不能晚于结束日期", {"start": ["开始日期不能晚于结束日期"]})
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise ValidationFailed(
            f"区间不能超过 {MAX_RANGE_DAYS} 天", {"start": [f"区间不能超过 {MAX_RANGE_DAYS} 天"]}
        )
    return start, end
