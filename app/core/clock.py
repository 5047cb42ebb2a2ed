"""The business date: "today" in the bank's timezone, pinnable for demos and tests."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import current_app


def utcnow() -> dt.datetime:
    """Current instant, aware, in UTC (model defaults, audit times)."""
    return dt.datetime.now(dt.UTC)


def business_today() -> dt.date:
    """Today's date in ``TIMEZONE`` (Asia/Shanghai), or ``BUSINESS_DATE`` when configured.

    ``BUSINESS_DATE`` (ISO ``YYYY-MM-DD``, env var of the same name) pins the date so the
    demo on the bundled market snapshot shows a trading day that has data.

    :raises ValueError: if ``BUSINESS_DATE`` is not an ISO date.
    """
    pinned = current_app.config.get("BUSINESS_DATE")
    if pinned:
        return dt.date.fromisoformat(str(pinned))
    return dt.datetime.now(ZoneInfo(current_app.config["TIMEZONE"])).date()


def to_local(instant: dt.datetime | None) -> dt.datetime | None:
    """Convert an aware UTC instant to ``TIMEZONE`` (Asia/Shanghai); ``None`` passes through."""
    if instant is None:
        return None
    return instant.astimezone(ZoneInfo(current_app.config["TIMEZONE"]))


def business_now() -> dt.datetime:
    """The current instant as aware UTC, on the business date.

    Normally the real time. With ``BUSINESS_DATE`` pinned (demos on the snapshot), it
    is that date at the current wall-clock time in ``TIMEZONE``, so a task marked done
    at 09:10 counts as done at 09:10 on the pinned date rather than years later.
    """
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    now = dt.datetime.now(zone)
    pinned = current_app.config.get("BUSINESS_DATE")
    if pinned:
        now = dt.datetime.combine(dt.date.fromisoformat(str(pinned)), now.timetz())
    return now.astimezone(dt.UTC)
