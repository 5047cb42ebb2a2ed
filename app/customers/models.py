"""Customers and WeCom contacts: the book, who owned whom when, contacts, verifications.

Pseudonymous: a customer is an opaque id from the bank's CRM (``customer_ref``), a contact
is WeCom's ``external_userid``; no names, phone or ID numbers are stored anywhere.
Provinces are GB/T 2260 codes (``app.core.provinces``). Sized for a national bank:
10 million contacts, tens of thousands of staff (see the indexes).
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Numeric,
    SmallInteger,
    String,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import utcnow
from app.core.db import UtcDateTime
from app.core.extensions import db
from app.org.models import User


class Segment(db.Model):
    """A customer segment 客群 (configuration): private 私行, vip 贵宾, payroll 代发, mass 普通.

    ``code`` is what reports and imports use; ``name`` is the Chinese name a bank export
    writes and the UI shows; ``position`` orders them (most valuable first).
    """

    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    position: Mapped[int] = mapped_column(default=0)


class Customer(db.Model):
    """A customer in the bank's book (CRM export), owned by one relationship manager now.

    ``customer_ref`` is the bank's opaque customer id. ``rm_id`` is the current owner; the
    history is :class:`CustomerOwnership`. ``province_code`` is where the account is held.
    ``marketing_opt_out``: the customer refused marketing 拒绝营销; segment-targeted 群发
    never includes them (``app.connector.segments``).
    """

    __tablename__ = "customers"
    __table_args__ = (CheckConstraint("aum_cny >= 0", name="aum_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_ref: Mapped[str] = mapped_column(String(64), unique=True)
    rm_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id"), index=True)
    has_account: Mapped[bool] = mapped_column(default=True)
    province_code: Mapped[str | None] = mapped_column(String(2))
    aum_cny: Mapped[Decimal] = mapped_column(Numeric(18, 2), default=Decimal(0))
    marketing_opt_out: Mapped[bool] = mapped_column(default=False, server_default=false())
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)

    rm: Mapped[User] = relationship()
    segment: Mapped[Segment] = relationship()


class CustomerOwnership(db.Model):
    """Who owned a customer when: ``[valid_from, valid_to)`` in UTC.

    ``valid_from`` NULL means "since before the first import of the book": a customer's first
    owner owns them for every earlier add. ``valid_to`` NULL is the current owner; a partial
    unique index allows one open row per customer.
    """

    __tablename__ = "customer_ownerships"
    __table_args__ = (
        Index("ix_customer_ownerships_customer_id_valid_from", "customer_id", "valid_from"),
        Index("ix_customer_ownerships_rm_id_valid_to", "rm_id", "valid_to"),
        Index("uq_customer_ownerships_open", "customer_id", unique=True,
              sqlite_where=text("valid_to IS NULL"), postgresql_where=text("valid_to IS NULL")),
        CheckConstraint("valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from",
                        name="interval_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    rm_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    valid_from: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    valid_to: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class ContactType(enum.IntEnum):
    """WeCom's ``type`` of an external contact: 1 = WeChat user, 2 = WeCom user (another corp)."""

    wechat = 1
    wecom = 2


class WecomContact(db.Model):
    """One add: a staff member follows an external contact from ``added_at`` to ``removed_at``.

    Keyed by (staff, ``external_userid``, ``added_at``): a contact deleted and added again is
    a second row. ``add_way`` is WeCom's code (e.g. 1 scan QR code, 2 search by phone,
    3 business card sharing); ``corp_name`` is set for WeCom users (contact type 2).
    ``removed_at`` is when the relationship ended, deleted by either side.
    """

    __tablename__ = "wecom_contacts"
    __table_args__ = (
        UniqueConstraint("staff_id", "external_userid", "added_at"),
        Index("ix_wecom_contacts_external_userid_added_at", "external_userid", "added_at"),
        Index("ix_wecom_contacts_staff_id_added_at", "staff_id", "added_at"),
        CheckConstraint("contact_type IN (1, 2)", name="contact_type_known"),
        CheckConstraint("removed_at IS NULL OR removed_at >= added_at", name="removed_after_add"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    external_userid: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    add_way: Mapped[int | None] = mapped_column(SmallInteger)
    contact_type: Mapped[int] = mapped_column(SmallInteger, default=ContactType.wechat)
    corp_name: Mapped[str | None] = mapped_column(String(128))
    removed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)

    staff: Mapped[User] = relationship()


class VerificationMethod(enum.Enum):
    """How the customer completed real-name verification 实名认证."""

    link = "link"  # the form link sent by the relationship manager
    app = "app"  # binding WeChat in the bank's app


class Verification(db.Model):
    """A real-name verification: it links a WeCom contact to a customer id of the bank.

    ``customer_ref`` is the bank's customer id as the verification system reports it; it
    need not be in the book (that add then fails the "customer" rule). ``ip_province_code``
    is the province of the IP address the customer verified from, NULL when unknown.
    """

    __tablename__ = "verifications"
    __table_args__ = (
        UniqueConstraint("external_userid", "customer_ref", "verified_at"),
        Index("ix_verifications_customer_ref", "customer_ref"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_userid: Mapped[str] = mapped_column(String(64))
    customer_ref: Mapped[str] = mapped_column(String(64))
    method: Mapped[VerificationMethod] = mapped_column(
        Enum(VerificationMethod, native_enum=False, length=8, create_constraint=True))
    verified_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    ip_province_code: Mapped[str | None] = mapped_column(String(2))


class CoverageSnapshot(db.Model):
    """Coverage 覆盖率 of one relationship manager and segment at the end of one day.

    Written by ``flask coverage snapshot`` (and the demo seed), read for trend charts.
    """

    __tablename__ = "coverage_snapshots"
    __table_args__ = (
        UniqueConstraint("snapshot_date", "staff_id", "segment_id"),
        Index("ix_coverage_snapshots_staff_id_snapshot_date", "staff_id", "snapshot_date"),
        CheckConstraint("covered >= 0 AND covered <= customers", name="covered_within_customers"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    snapshot_date: Mapped[dt.date] = mapped_column(Date)
    staff_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id"))
    customers: Mapped[int]
    covered: Mapped[int]


class CoverageTarget(db.Model):
    """Target coverage rate for a segment over a period (inclusive Asia/Shanghai dates)."""

    __tablename__ = "coverage_targets"
    __table_args__ = (
        UniqueConstraint("segment_id", "start_date"),
        CheckConstraint("target_rate >= 0 AND target_rate <= 1", name="rate_is_fraction"),
        CheckConstraint("end_date >= start_date", name="period_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id"))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    target_rate: Mapped[float]

    segment: Mapped[Segment] = relationship()


class AddsSnapshot(db.Model):
    """Valid adds 有效添加 of one staff member, month to date, at the end of one day.

    ``snapshot_date`` D holds the adds from the first of D's month to D (Asia/Shanghai add
    dates) as judged when the snapshot was taken, with one count per invalid reason code
    (``app.customers.validity.REASONS``). Written with :class:`CoverageSnapshot`.
    """

    __tablename__ = "adds_snapshots"
    __table_args__ = (
        UniqueConstraint("snapshot_date", "staff_id"),
        Index("ix_adds_snapshots_staff_id_snapshot_date", "staff_id", "snapshot_date"),
        CheckConstraint("valid_adds >= 0 AND valid_adds <= adds", name="valid_within_adds"),
        CheckConstraint("not_verified >= 0 AND not_customer >= 0 AND no_account >= 0 AND "
                        "not_own_customer >= 0 AND not_first_add >= 0 AND out_of_province >= 0",
                        name="reason_counts_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    snapshot_date: Mapped[dt.date] = mapped_column(Date)
    staff_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    adds: Mapped[int]
    valid_adds: Mapped[int]
    not_verified: Mapped[int] = mapped_column(default=0)
    not_customer: Mapped[int] = mapped_column(default=0)
    no_account: Mapped[int] = mapped_column(default=0)
    not_own_customer: Mapped[int] = mapped_column(default=0)
    not_first_add: Mapped[int] = mapped_column(default=0)
    out_of_province: Mapped[int] = mapped_column(default=0)


class ImportStatus(enum.Enum):
    """Where a web import stands: uploaded (previewable), queued, running, done or failed."""

    uploaded = "uploaded"
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class ImportJob(db.Model):
    """A file uploaded in the web UI for import, and its run on the task queue.

    The file lives in the ``imports`` storage area under ``storage_key``; status, progress
    (``position`` of ``size`` in the file's unit: bytes for CSV, rows for XLSX), counts and
    errors live here, so any web node shows any import and none keeps state of its own.
    ``errors`` holds at most ``IMPORT_MAX_ERRORS`` entries ``{"line", "message"}``;
    ``error_count`` counts them all. ``message`` says why a failed import failed.
    """

    __tablename__ = "import_jobs"
    __table_args__ = (
        Index("ix_import_jobs_created_by_id", "created_by_id"),
        CheckConstraint("kind IN ('customers', 'contacts', 'verifications')", name="kind_known"),
        CheckConstraint("position >= 0 AND size >= 1", name="progress_in_range"),
        CheckConstraint("imported >= 0 AND updated >= 0 AND unchanged >= 0 AND error_count >= 0",
                        name="counts_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(String(255))
    storage_key: Mapped[str] = mapped_column(String(255), unique=True)
    status: Mapped[ImportStatus] = mapped_column(
        Enum(ImportStatus, native_enum=False, length=16, create_constraint=True),
        default=ImportStatus.uploaded)
    position: Mapped[int] = mapped_column(BigInteger, default=0)
    size: Mapped[int] = mapped_column(BigInteger, default=1)
    imported: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    error_count: Mapped[int] = mapped_column(default=0)
    errors: Mapped[list] = mapped_column(JSON, default=list)
    message: Mapped[str | None] = mapped_column(String(500))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)

    @property
    def percent(self) -> float:
        """Progress from 0 to 100."""
        return 100 * min(self.position, self.size) / self.size

    def result(self) -> dict:
        """The import's JSON contract ``{"imported", "updated", "unchanged", "errors"}``."""
        return {"imported": self.imported, "updated": self.updated,
                "unchanged": self.unchanged, "errors": self.errors}
