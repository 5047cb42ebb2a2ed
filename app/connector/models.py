"""The connector's tables: push outbox, reminders, withdrawals, contacts, measured results.

Contact events, measured task results, measured customer outcomes, staff behaviour per day.

Every row that comes from WeCom is keyed by WeCom's own ids in a unique constraint, so a
repeated pull or a duplicate callback never duplicates a row.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    CheckConstraint,
    Date,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import utcnow
from app.core.db import UtcDateTime
from app.core.extensions import db


def _enum(cls):
    return Enum(cls, native_enum=False, length=16, create_constraint=True)


class PushAction(enum.Enum):
    """What an outbox row asks WeCom to do for one task."""

    mass_message = "mass_message"  # add_msg_template 群发
    moments_post = "moments_post"  # add_moment_task 朋友圈
    cancel = "cancel"  # cancel_groupmsg_send (withdrawn post)


class PushState(enum.Enum):
    """pending → sent (WeCom accepted) → confirmed (staff sent / job done) or failed."""

    pending = "pending"
    sent = "sent"
    confirmed = "confirmed"
    failed = "failed"


class WeComPush(db.Model):
    """One outbox row per task and action.

    A 群发 row's WeCom tasks are its ``messages`` (one ``msgid`` per chunk of at most
    ``api.EXTERNAL_USERIDS_MAX`` customers, :class:`WeComPushMessage`); ``jobid`` and
    ``moment_id`` (朋友圈) are WeCom's ids of a Moments row. ``attempted_at`` is set
    before each call, and ``is_uncertain`` after a call that got no answer (WeCom may have
    accepted it): such a row is reconciled against WeCom before any new call.
    ``failed_customers`` counts the task's customers in WeCom's ``fail_list``, summed over
    the row's messages. ``next_attempt_at`` is set on a row that failed for a passing
    reason: from then on a push run opens it again (``outbox.reopen_failed``); ``None`` on
    a final failure.
    """

    __tablename__ = "wecom_pushes"
    __table_args__ = (
        UniqueConstraint("task_id", "action"),
        Index("ix_wecom_pushes_state", "state"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"))
    action: Mapped[PushAction] = mapped_column(_enum(PushAction))
    state: Mapped[PushState] = mapped_column(_enum(PushState), default=PushState.pending)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    is_uncertain: Mapped[bool] = mapped_column(default=False)
    jobid: Mapped[str | None] = mapped_column(String(64), index=True)
    moment_id: Mapped[str | None] = mapped_column(String(128), index=True)
    failed_customers: Mapped[int] = mapped_column(Integer, default=0)
    attempted_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)

    task = relationship("Task")
    messages: Mapped[list[WeComPushMessage]] = relationship(
        back_populates="push", order_by="WeComPushMessage.seq")

    @property
    def msgids(self) -> list[str]:
        """WeCom's ``msgid`` of each accepted message (chunk) of a 群发 row, in send order."""
        return [message.msgid for message in self.messages if message.msgid]


class WeComPushMessage(db.Model):
    """One ``add_msg_template`` call of a 群发 outbox row: a chunk of its customers.

    WeCom takes at most ``api.EXTERNAL_USERIDS_MAX`` (10,000) ``external_userid`` per
    call (../shared/wecom-api.md §2.1), so a row whose customer filter lists more is sent
    as several messages, ``seq`` 0, 1, …, each its own WeCom task. A chunk holds the
    customers from ``first_external_userid`` to ``last_external_userid`` (inclusive, in
    Python's code-point order of the filter's ids, never the database collation);
    ``recipients`` counts them (1..10,000). All three are ``None`` for a message to all the
    sender's customers (no filter), which is never split.

    The row is written (``msgid`` ``None``) and committed before its call, so a call
    that got no answer can be reconciled against WeCom; ``msgid``, ``sent_at`` and
    ``failed_customers`` (its customers in WeCom's ``fail_list``) are set when WeCom
    accepted it. A push row has at most one message without a ``msgid`` (the one in
    flight), and a retry sends only the customers outside the accepted messages' ranges.
    """

    __tablename__ = "wecom_push_messages"
    __table_args__ = (
        UniqueConstraint("push_id", "seq"),
        Index("uq_wecom_push_messages_in_flight", "push_id", unique=True,
              sqlite_where=text("msgid IS NULL"), postgresql_where=text("msgid IS NULL")),
        CheckConstraint("seq >= 0", name="seq_not_negative"),
        CheckConstraint("recipients BETWEEN 1 AND 10000", name="recipients_within_wecom_limit"),
        CheckConstraint(
            "(recipients IS NULL AND first_external_userid IS NULL "
            "AND last_external_userid IS NULL) OR (recipients IS NOT NULL "
            "AND first_external_userid IS NOT NULL AND last_external_userid IS NOT NULL)",
            name="range_iff_recipients"),
        CheckConstraint("failed_customers >= 0 AND failed_customers <= "
                        "COALESCE(recipients, failed_customers)",
                        name="failed_customers_within_recipients"),
        CheckConstraint("(msgid IS NULL AND sent_at IS NULL AND failed_customers = 0) "
                        "OR (msgid IS NOT NULL AND sent_at IS NOT NULL)",
                        name="sent_iff_msgid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    push_id: Mapped[int] = mapped_column(ForeignKey("wecom_pushes.id"))
    seq: Mapped[int] = mapped_column(SmallInteger)
    msgid: Mapped[str | None] = mapped_column(String(128), unique=True)
    first_external_userid: Mapped[str | None] = mapped_column(String(64))
    last_external_userid: Mapped[str | None] = mapped_column(String(64))
    recipients: Mapped[int | None] = mapped_column(Integer)
    failed_customers: Mapped[int] = mapped_column(Integer, default=0)
    attempted_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)

    push: Mapped[WeComPush] = relationship(back_populates="messages")

    def covers(self, external_userid: str) -> bool:
        """Whether this message's chunk holds ``external_userid`` (all customers if no range)."""
        if self.first_external_userid is None:
            return True
        return self.first_external_userid <= external_userid <= self.last_external_userid


class WeComReminder(db.Model):
    """A reminder 催办 sent through ``remind_groupmsg_send`` for one mass message."""

    __tablename__ = "wecom_reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    push_id: Mapped[int] = mapped_column(ForeignKey("wecom_pushes.id"), index=True)
    msgid: Mapped[str] = mapped_column(String(128), index=True)
    reminded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    push: Mapped[WeComPush] = relationship()


class PostWithdrawal(db.Model):
    """Why and by whom a published post was withdrawn (the post becomes ``cancelled``)."""

    __tablename__ = "post_withdrawals"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), unique=True)
    reason: Mapped[str] = mapped_column(String(500))
    withdrawn_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    withdrawn_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    withdrawn_by = relationship("User")


class WeComContactEvent(db.Model):
    """A ``change_external_contact`` callback as received, once per delivery key.

    ``event_key`` is a SHA-256 of ChangeType, UserID, ExternalUserID and CreateTime (WeCom
    retries the same event up to 3 times). ``staff_id`` is resolved through
    ``users.wecom_userid`` (``None`` for an unknown member); ``applied_at`` is set when the
    event has been applied to the customer layer's contacts: at once for a known member,
    else when a user gets that WeCom userid (``contact_events.apply_pending``). ``add_way``,
    ``contact_type`` and ``corp_name`` are the add's fields that applying needs.
    """

    __tablename__ = "wecom_contact_events"
    __table_args__ = (Index("ix_wecom_contact_events_wecom_userid_applied_at", "wecom_userid",
                            "applied_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_key: Mapped[str] = mapped_column(String(64), unique=True)
    change_type: Mapped[str] = mapped_column(String(32))
    wecom_userid: Mapped[str] = mapped_column(String(64))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    external_userid: Mapped[str] = mapped_column(String(64), index=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    detail: Mapped[str | None] = mapped_column(String(64))  # State, Source or FailReason
    add_way: Mapped[int | None] = mapped_column(SmallInteger)
    contact_type: Mapped[int | None] = mapped_column(SmallInteger)
    corp_name: Mapped[str | None] = mapped_column(String(128))
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    applied_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class WeComTaskResult(db.Model):
    """What WeCom measured for one task: when the staff member sent it and to how many.

    ``sent_at`` is WeCom's send time (mass message) or the pull time a Moments post was
    first seen published; ``delivered`` counts customers who received (群发, status 1) or
    could see it (朋友圈).
    """

    __tablename__ = "wecom_task_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), unique=True)
    sent_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    delivered: Mapped[int] = mapped_column(Integer, default=0)
    pulled_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class OutcomeKind(enum.Enum):
    """A measured customer outcome: like 点赞, comment 评论, delete 删除好友."""

    like = "like"
    comment = "comment"
    delete = "delete"


class WeComOutcome(db.Model):
    """One customer outcome measured by WeCom, per pseudonymous ``external_userid``.

    ``wecom_key`` (unique) is built from WeCom's ids (moment id, member, customer, kind,
    time), so pulling the same day again stores nothing new. ``source`` is always
    ``wecom``: reported events stay in ``interaction_events``.
    """

    __tablename__ = "wecom_outcomes"

    id: Mapped[int] = mapped_column(primary_key=True)
    wecom_key: Mapped[str] = mapped_column(String(64), unique=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    external_userid: Mapped[str] = mapped_column(String(64))
    kind: Mapped[OutcomeKind] = mapped_column(_enum(OutcomeKind))
    occurred_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    source: Mapped[str] = mapped_column(String(16), default="wecom")


class WeComStaffDay(db.Model):
    """A staff member's WeCom contact statistics for one Asia/Shanghai day (behaviour data).

    ``reply_rate`` (0..1) and ``avg_reply_minutes`` are ``None`` on days without chats.
    """

    __tablename__ = "wecom_staff_days"
    __table_args__ = (
        UniqueConstraint("staff_id", "stat_date"),
        CheckConstraint("reply_rate >= 0 AND reply_rate <= 1", name="reply_rate_fraction"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    stat_date: Mapped[dt.date] = mapped_column(Date)
    new_contacts: Mapped[int] = mapped_column(Integer, default=0)
    chats: Mapped[int] = mapped_column(Integer, default=0)
    messages: Mapped[int] = mapped_column(Integer, default=0)
    reply_rate: Mapped[float | None] = mapped_column(Float)
    avg_reply_minutes: Mapped[int | None] = mapped_column(Integer)
    negative_feedback: Mapped[int] = mapped_column(Integer, default=0)
