"""Customer interaction events 互动事件 logged by front-line staff against their tasks."""

from __future__ import annotations

import datetime as dt
import decimal
import enum

from sqlalchemy import (
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import utcnow
from app.core.db import UtcDateTime
from app.core.extensions import db


class InteractionKind(enum.Enum):
    """What a customer (or the staff member, for ``reply``) did after a post.

    ``like`` 点赞, ``comment`` 评论, ``inquiry`` 咨询 (private message about a
    product), ``reply`` 回复 (the staff member answered a customer; a front-office
    process measure), ``block`` 拉黑, ``delete`` 删除好友, ``conversion`` 转化
    (a product sale attributed to the post; ``amount_cny`` holds its amount).
    """

    like = "like"
    comment = "comment"
    inquiry = "inquiry"
    reply = "reply"
    block = "block"
    delete = "delete"
    conversion = "conversion"


KIND_LABELS = {
    InteractionKind.like: "点赞",
    InteractionKind.comment: "评论",
    InteractionKind.inquiry: "咨询",
    InteractionKind.reply: "回复客户",
    InteractionKind.block: "拉黑",
    InteractionKind.delete: "删除好友",
    InteractionKind.conversion: "转化",
}


class InteractionEvent(db.Model):
    """One reported interaction; ``(reporter_id, event_id)`` is unique, so retries never duplicate.

    ``event_id`` is chosen by the client (e.g. a UUID); ``quantity`` counts
    customers for aggregated reports (default 1); ``occurred_at`` is aware UTC;
    ``amount_cny`` (> 0) is set exactly on conversions.
    """

    __tablename__ = "interaction_events"
    __table_args__ = (
        UniqueConstraint("reporter_id", "event_id"),
        # PostgreSQL: the scorecard's per-task sums read only this index (index-only scan).
        Index("ix_interaction_events_task_id", "task_id",
              postgresql_include=["kind", "quantity", "amount_cny"]),
        CheckConstraint("quantity >= 1", name="quantity_positive"),
        CheckConstraint("amount_cny > 0", name="amount_cny_positive"),
        CheckConstraint(
            "(kind = 'conversion' AND amount_cny IS NOT NULL)"
            " OR (kind <> 'conversion' AND amount_cny IS NULL)",
            name="amount_cny_iff_conversion",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    event_id: Mapped[str] = mapped_column(String(64))
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"))
    kind: Mapped[InteractionKind] = mapped_column(
        Enum(InteractionKind, native_enum=False, length=16, create_constraint=True)
    )
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    amount_cny: Mapped[decimal.Decimal | None] = mapped_column(Numeric(18, 2))
    occurred_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)

    task = relationship("Task")
    reporter = relationship("User")
