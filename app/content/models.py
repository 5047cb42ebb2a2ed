"""Content templates 内容模板, their versions, compliance findings and approvals (four-eyes)."""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json

from sqlalchemy import (
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.compliance import Severity
from app.core.clock import utcnow
from app.core.db import UtcDateTime
from app.core.extensions import db


class TemplateStatus(enum.Enum):
    """Life cycle: draft → in_review → approved (or back to draft) → retired."""

    draft = "draft"
    in_review = "in_review"
    approved = "approved"
    retired = "retired"


STATUS_LABELS = {
    TemplateStatus.draft: "草稿",
    TemplateStatus.in_review: "待复核",
    TemplateStatus.approved: "已批准",
    TemplateStatus.retired: "已停用",
}


class ProductCategory(enum.Enum):
    """Product category a template promotes; selects the compliance rules that apply."""

    general = "general"
    fund = "fund"
    wealth = "wealth"
    gold = "gold"
    fx = "fx"
    insurance = "insurance"
    deposit = "deposit"
    loan = "loan"


PRODUCT_LABELS = {
    ProductCategory.general: "综合资讯",
    ProductCategory.fund: "基金",
    ProductCategory.wealth: "理财",
    ProductCategory.gold: "贵金属",
    ProductCategory.fx: "外汇",
    ProductCategory.insurance: "保险",
    ProductCategory.deposit: "存款",
    ProductCategory.loan: "贷款",
}


class ContentKind(enum.Enum):
    """What a template is; decides which compliance rules apply (``app.compliance.kinds``)."""

    market_commentary = "market_commentary"
    product_promotion = "product_promotion"
    service_notice = "service_notice"
    greeting = "greeting"


CONTENT_KIND_LABELS = {
    ContentKind.market_commentary: "市场点评",
    ContentKind.product_promotion: "产品推介",
    ContentKind.service_notice: "服务通知",
    ContentKind.greeting: "节日问候",
}


class Channel(enum.Enum):
    """WeCom channel: mass message 群发, Moments 朋友圈, customer group 客户群."""

    mass_message = "mass_message"
    moments_post = "moments_post"
    customer_group = "customer_group"


CHANNEL_LABELS = {
    Channel.mass_message: "群发",
    Channel.moments_post: "朋友圈",
    Channel.customer_group: "客户群",
}
#: Channels whose posts WeCom itself sends once connected (``app.connector.outbox``);
#: 客户群 posts are always sent by hand.
WECOM_SENT_CHANNELS = frozenset({Channel.mass_message, Channel.moments_post})


class ContentTemplate(db.Model):
    """A content template written by the middle office.

    ``approved_version_id`` points at the version that SOP runs render; editing
    creates a new version and sends the template back to ``draft``. ``content_kind``
    with ``product`` selects the compliance rules (a promotion needs a product category
    other than ``general``). ``valid_from_date``/``valid_until_date`` (Asia/Shanghai
    calendar dates, inclusive, each optional) bound the run dates it may be published on.
    """

    __tablename__ = "content_templates"
    __table_args__ = (
        CheckConstraint("content_kind <> 'product_promotion' OR product <> 'general'",
                        name="promotion_has_product"),
        CheckConstraint("valid_until_date IS NULL OR valid_from_date IS NULL"
                        " OR valid_until_date >= valid_from_date", name="validity_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(120))
    product: Mapped[ProductCategory] = mapped_column(
        Enum(ProductCategory, native_enum=False, length=16, create_constraint=True)
    )
    content_kind: Mapped[ContentKind] = mapped_column(
        Enum(ContentKind, native_enum=False, length=24, create_constraint=True)
    )
    channel: Mapped[Channel] = mapped_column(
        Enum(Channel, native_enum=False, length=16, create_constraint=True)
    )
    valid_from_date: Mapped[dt.date | None] = mapped_column(Date)
    valid_until_date: Mapped[dt.date | None] = mapped_column(Date)
    chart_spec: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[TemplateStatus] = mapped_column(
        Enum(TemplateStatus, native_enum=False, length=16, create_constraint=True),
        default=TemplateStatus.draft,
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    approved_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("template_versions.id", use_alter=True)
    )
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    author = relationship("User", foreign_keys=[author_id])
    versions: Mapped[list[TemplateVersion]] = relationship(
        back_populates="template", foreign_keys="TemplateVersion.template_id",
        order_by="TemplateVersion.number",
    )
    approved_version: Mapped[TemplateVersion | None] = relationship(
        foreign_keys=[approved_version_id], post_update=True
    )

    def is_valid_on(self, day: dt.date) -> bool:
        """Whether ``day`` lies in the validity window (an open end is unbounded)."""
        return ((self.valid_from_date is None or self.valid_from_date <= day)
                and (self.valid_until_date is None or day <= self.valid_until_date))

    @property
    def latest_version(self) -> TemplateVersion | None:
        """The newest version, or ``None`` for a template without one."""
        return self.versions[-1] if self.versions else None


class TemplateVersion(db.Model):
    """An immutable body of a template; ``body_sha256`` identifies the approved text.

    ``body`` is the first wording (variant 0); further wordings of the same version
    (variants 1, 2, …) are :class:`TemplateVariant` rows. Each wording has its own
    findings (``ComplianceFinding.variant``); staff receive one wording each
    (``app.broadcasts.variants``).
    """

    __tablename__ = "template_versions"
    __table_args__ = (
        UniqueConstraint("template_id", "number"),
        CheckConstraint("number >= 1", name="number_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("content_templates.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    body_sha256: Mapped[str] = mapped_column(String(64))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)

    template: Mapped[ContentTemplate] = relationship(
        back_populates="versions", foreign_keys=[template_id]
    )
    author = relationship("User", foreign_keys=[author_id])
    findings: Mapped[list[ComplianceFinding]] = relationship(
        back_populates="version",
        order_by=lambda: (ComplianceFinding.start.asc().nulls_first(), ComplianceFinding.id),
    )
    approvals: Mapped[list[Approval]] = relationship(back_populates="version")
    extra_variants: Mapped[list[TemplateVariant]] = relationship(
        back_populates="version", order_by="TemplateVariant.variant")

    @property
    def bodies(self) -> list[str]:
        """Every wording, variant 0 (``body``) first."""
        return [self.body, *(v.body for v in self.extra_variants)]

    @property
    def content_sha256(self) -> str:
        """SHA-256 of what was written: ``body_sha256`` with one wording, else of all of them.

        With variants it is the hex SHA-256 of the UTF-8 JSON list of the bodies (audit log).
        """
        if not self.extra_variants:
            return self.body_sha256
        return hashlib.sha256(json.dumps(self.bodies, ensure_ascii=False)
                              .encode("utf-8")).hexdigest()

    def findings_of(self, variant: int) -> list[ComplianceFinding]:
        """The findings of one wording (``variant`` 0 is ``body``)."""
        return [f for f in self.findings if f.variant == variant]


class TemplateVariant(db.Model):
    """A further wording (variant ≥ 1) of a template version; immutable like its version."""

    __tablename__ = "template_variants"
    __table_args__ = (
        UniqueConstraint("version_id", "variant"),
        CheckConstraint("variant >= 1", name="variant_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("template_versions.id"), index=True)
    variant: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    body_sha256: Mapped[str] = mapped_column(String(64))

    version: Mapped[TemplateVersion] = relationship(back_populates="extra_variants")


class ComplianceFinding(db.Model):
    """One compliance rule hit on a template version (an ``app.compliance.Finding`` stored).

    ``variant`` is the wording it was found in (0: the version's ``body``);
    ``start``/``end`` are character offsets into that wording (``end`` exclusive; equal
    for a missing required statement); both are NULL for a hit seen only in the sample
    rendering, which is listed but cannot be highlighted.
    """

    __tablename__ = "compliance_findings"
    __table_args__ = (
        CheckConstraint("start >= 0", name="start_not_negative"),
        CheckConstraint('"end" >= start', name="end_not_before_start"),
        CheckConstraint('(start IS NULL) = ("end" IS NULL)', name="offsets_both_or_neither"),
        CheckConstraint("justification IS NULL OR severity = 'warn'",
                        name="only_warnings_justified"),
        CheckConstraint("variant >= 0", name="variant_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("template_versions.id"), index=True)
    variant: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rule_id: Mapped[str] = mapped_column(String(16))
    severity: Mapped[Severity] = mapped_column(Enum(
        Severity, native_enum=False, length=8, create_constraint=True,
        values_callable=lambda members: [m.value for m in members],
    ))
    start: Mapped[int | None] = mapped_column(Integer)
    end: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(String(255))
    citation: Mapped[str] = mapped_column(String(255))
    #: The editor's written reason for accepting a warning (shown to the reviewer).
    justification: Mapped[str | None] = mapped_column(String(500))
    justified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    justified_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)

    version: Mapped[TemplateVersion] = relationship(back_populates="findings")

    @property
    def is_blocking(self) -> bool:
        """True when this finding prevents approval and publication (severity ``block``)."""
        return self.severity is Severity.block


class ApprovalDecision(enum.Enum):
    """A reviewer's decision on a version."""

    approved = "approved"
    rejected = "rejected"


class Approval(db.Model):
    """A reviewer's decision; the reviewer is never the version's author (four-eyes)."""

    __tablename__ = "approvals"
    __table_args__ = (UniqueConstraint("version_id", "reviewer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("template_versions.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decision: Mapped[ApprovalDecision] = mapped_column(
        Enum(ApprovalDecision, native_enum=False, length=16, create_constraint=True)
    )
    comment: Mapped[str] = mapped_column(String(500), default="")
    decided_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)

    version: Mapped[TemplateVersion] = relationship(back_populates="approvals")
    reviewer = relationship("User")
