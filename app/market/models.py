"""Market data: daily bars per configured series, and rendered chart images."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, CheckConstraint, Date, Float, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import utcnow
from app.core.db import UtcDateTime
from app.core.extensions import db


class PriceBar(db.Model):
    """One daily bar of one series.

    ``series_code`` is a code from ``app.market.instruments`` (e.g. ``HSI``);
    ``trade_date`` is the exchange-local date of the session; prices are in the
    series' own unit (index points, USD/oz, CNY per USD), and every series' close is
    positive (the market context divides by it); ``volume`` is 0 for series without
    one (FX); ``source`` names the provider (``snapshot`` or ``yfinance``).
    """

    __tablename__ = "price_bars"
    __table_args__ = (
        UniqueConstraint("series_code", "trade_date"),
        CheckConstraint("close > 0", name="close_positive"),
        CheckConstraint("volume >= 0", name="volume_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    series_code: Mapped[str] = mapped_column(String(16))
    trade_date: Mapped[dt.date] = mapped_column(Date)
    open: Mapped[float | None] = mapped_column(Float)
    high: Mapped[float | None] = mapped_column(Float)
    low: Mapped[float | None] = mapped_column(Float)
    close: Mapped[float] = mapped_column(Float)
    volume: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(32))
    fetched_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class ChartImage(db.Model):
    """A chart rendered for a run date from one spec in ``charts/``.

    ``path`` is relative to ``CHART_OUTPUT_DIR``; ``as_of`` maps series code to
    the ISO date of the last close drawn.
    """

    __tablename__ = "chart_images"
    __table_args__ = (UniqueConstraint("run_date", "spec_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_date: Mapped[dt.date] = mapped_column(Date)
    spec_name: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(255))
    as_of: Mapped[dict] = mapped_column(JSON)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
