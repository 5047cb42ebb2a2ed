"""The business date: "today" in the bank's timezone, pinnable for demos and tests."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import current_app


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
