"""SOP plans, the posts they produce per date, and the per-staff tasks 任务.

A post (群发 / 朋友圈 / 客户群 content for one SOP and date) is created once per
(SOP plan, run date); each assigned front-line user gets one task holding the
text rendered for them. Uniqueness lives in the schema, so a retried run never
duplicates.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.content.sandbox import staff_fields
from app.content.substitution import compose
from app.core.clock import utcnow
from app.core.db import UtcDateTime
from app.core.extensions import db


class SopPlan(db.Model):
    """A standing plan: render ``template`` on each trading day at ``send_time``.

    ``send_time`` is wall-clock time in ``timezone``; ``calendar`` is an
    exchange-calendars code (``XSHG`` = Shanghai trading days); the plan targets
    every active front-line user in the subtree of ``branch``.
    """

    __tablename__ = "sop_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    template_id: Mapped[int] = mapped_column(ForeignKey("content_templates.id"), index=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True)
    send_time: Mapped[dt.time] = mapped_column(Time)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    calendar: Mapped[str] = mapped_column(String(16), default="XSHG")
    is_active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)

    template = relationship("ContentTemplate")
    branch = relationship("Branch")


class PostStatus(enum.Enum):
    """A post is published when its tasks exist; ``cancelled`` withdraws it."""

    published = "published"
    cancelled = "cancelled"


class Post(db.Model):
    """The content of one SOP plan on one run date (one row per plan and date)."""

    __tablename__ = "posts"
    __table_args__ = (UniqueConstraint("sop_plan_id", "run_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sop_plan_id: Mapped[int] = mapped_column(ForeignKey("sop_plans.id"))
    run_date: Mapped[dt.date] = mapped_column(Date, index=True)
    template_version_id: Mapped[int] = mapped_column(ForeignKey("template_versions.id"))
    chart_image_id: Mapped[int | None] = mapped_column(ForeignKey("chart_images.id"))
    market_as_of: Mapped[dict] = mapped_column(JSON)
    scheduled_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    status: Mapped[PostStatus] = mapped_column(
        Enum(PostStatus, native_enum=False, length=16, create_constraint=True),
        default=PostStatus.published,
    )
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)

    sop_plan: Mapped[SopPlan] = relationship()
    template_version = relationship("TemplateVersion")
    chart_image = relationship("ChartImage")
    tasks: Mapped[list[Task]] = relationship(back_populates="post")


class PostText(db.Model):
    """The text of a post (one row per variant) that its tasks point at instead of copying it.

    ``segments`` (``app.content.substitution``): literal text at even positions, the name of a
    staff field (``name``, ``branch``) at odd ones; a task's text is these segments with its
    staff member's fields. ``None`` when the template needed one render per staff member:
    then every task of this variant stores its own ``body``.
    """

    __tablename__ = "post_texts"
    __table_args__ = (UniqueConstraint("post_id", "variant"),
                      CheckConstraint("variant >= 0", name="variant_non_negative"))

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    variant: Mapped[int] = mapped_column(Integer, default=0)
    segments: Mapped[list | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class TaskStatus(enum.Enum):
    """Front-line task state: assigned → done."""

    assigned = "assigned"
    done = "done"


class Task(db.Model):
    """One front-line user's copy of a post.

    The task points at its post's text and variant (``post_text``); it stores its own
    ``body`` (and ``body_sha256``) only where its text is not that post text with the staff
    member's name and branch (:attr:`text` gives the text either way).

    ``due_at`` is the instant the send is expected by (on-time rate); ``reach_count``
    is the number of customers the staff member sent it to, reported on completion.
    A task is done exactly when it has ``completed_at``; only a done task has a reach.
    """

    __tablename__ = "tasks"
    __table_args__ = (
        UniqueConstraint("post_id", "staff_id"),
        Index("ix_tasks_staff_id_status", "staff_id", "status"),
        CheckConstraint("reach_count >= 0", name="reach_count_non_negative"),
        CheckConstraint(
            "(status = 'done' AND completed_at IS NOT NULL)"
            " OR (status <> 'done' AND completed_at IS NULL)",
            name="completed_at_iff_done",
        ),
        CheckConstraint(
            "status = 'done' OR reach_count IS NULL", name="reach_count_only_when_done"
        ),
        CheckConstraint("body IS NOT NULL OR post_text_id IS NOT NULL",
                        name="body_or_post_text"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    post_text_id: Mapped[int | None] = mapped_column(ForeignKey("post_texts.id"))
    body: Mapped[str | None] = mapped_column(Text)
    body_sha256: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[TaskStatus] = mapped_column(
        Enum(TaskStatus, native_enum=False, length=16, create_constraint=True),
        default=TaskStatus.assigned,
    )
    due_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    reach_count: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)

    post: Mapped[Post] = relationship(back_populates="tasks")
    post_text: Mapped[PostText | None] = relationship()
    staff = relationship("User")

    @property
    def text(self) -> str:
        """The text this staff member posts: own ``body``, or the post text with their fields."""
        if self.body is not None or self.post_text is None or self.post_text.segments is None:
            return self.body
        return compose(self.post_text.segments, staff_fields(self.staff))
