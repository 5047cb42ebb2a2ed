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
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.broadcasts.schedules import schedule_for
from app.content.models import Channel, ContentTemplate
from app.content.substitution import compose
from app.core.clock import utcnow
from app.core.db import UtcDateTime
from app.core.extensions import db
from app.rendering.sandbox import staff_fields


def _default_schedule(context) -> str:
    """Insert default of ``sop_plans.schedule``: the expression of the calendar and send time."""
    values = context.get_current_parameters()
    return schedule_for(values["calendar"], values["send_time"])


def _template_channel(context) -> str:
    """Insert default of ``sop_plans.channel``: the channel of the plan's template."""
    table = ContentTemplate.__table__
    template_id = context.get_current_parameters()["template_id"]
    return context.connection.scalar(select(table.c.channel).where(table.c.id == template_id))


class SopPlan(db.Model):
    """A standing plan: render ``template`` on each trading day at ``send_time``.

    ``send_time`` is wall-clock time in ``timezone``; ``calendar`` is an
    exchange-calendars code (``XSHG`` = Shanghai trading days). The plan targets every
    active front-line user in the union of its audience subtrees: ``branch`` (the first
    audience branch) and the branches of its ``plan_audience`` rows
    (``app.broadcasts.plan_models``, ``app.broadcasts.audience``). ``channel`` is the WeCom
    channel its posts go out on; ``revision`` the number of its current revision
    (``sop_plan_revisions``; an edit adds one).
    """

    __tablename__ = "sop_plans"
    __table_args__ = (
        CheckConstraint("max_runs IS NULL OR max_runs > 0", name="max_runs_positive"),
        CheckConstraint("revision >= 1", name="revision_positive"),
        CheckConstraint("end_date IS NULL OR start_date IS NULL OR end_date >= start_date",
                        name="end_not_before_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    template_id: Mapped[int] = mapped_column(ForeignKey("content_templates.id"), index=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True)
    send_time: Mapped[dt.time] = mapped_column(Time)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    calendar: Mapped[str] = mapped_column(String(16), default="XSHG")
    #: Schedule expression (``app.broadcasts.schedules``) in ``timezone``: the plan's
    #: occurrences. Plans made from a calendar and a send time get the matching expression.
    schedule: Mapped[str] = mapped_column(String(120), default=_default_schedule)
    #: Lifecycle: occurrences only from ``start_date`` to ``end_date`` (dates in
    #: ``timezone``, both optional), at most ``max_runs`` of them; archived plans never run.
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    max_runs: Mapped[int | None] = mapped_column(Integer)
    archived_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    is_active: Mapped[bool] = mapped_column(default=True)
    channel: Mapped[Channel] = mapped_column(
        Enum(Channel, native_enum=False, length=16, create_constraint=True),
        default=_template_channel)
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)

    template = relationship("ContentTemplate")
    branch = relationship("Branch")


class RunStatus(enum.Enum):
    """State of one occurrence of a plan (``plan_runs.status``).

    pending → claimed → published | skipped | failed; pending → missed (beyond the downtime
    grace) or cancelled (plan paused or archived); skipped/failed → pending on a re-run.
    """

    pending = "pending"
    claimed = "claimed"
    published = "published"
    skipped = "skipped"
    failed = "failed"
    missed = "missed"
    cancelled = "cancelled"


#: Chinese labels of run statuses (日跟踪, calendar).
RUN_STATUS_LABELS = {
    RunStatus.pending: "待运行", RunStatus.claimed: "运行中", RunStatus.published: "已发布",
    RunStatus.skipped: "已跳过", RunStatus.failed: "失败", RunStatus.missed: "已错过",
    RunStatus.cancelled: "已取消",
}


class PlanRun(db.Model):
    """One occurrence of a plan: the database is the scheduler's source of truth.

    ``scheduled_at`` is the occurrence (aware UTC, computed in the plan's time zone) and
    ``run_date`` its calendar date there; ``due_at`` is when it may be claimed (the
    occurrence, or the time of a re-run). ``reason_code`` / ``reason`` / ``rule_ids`` say
    why a run was skipped, failed or missed; ``attempts`` counts claims; ``claimed_by`` names
    the scheduler process (host:pid:id).
    """

    __tablename__ = "plan_runs"
    __table_args__ = (
        UniqueConstraint("sop_plan_id", "scheduled_at"),
        Index("ix_plan_runs_status_due_at", "status", "due_at"),
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
        CheckConstraint("revision >= 1", name="revision_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sop_plan_id: Mapped[int] = mapped_column(ForeignKey("sop_plans.id"))
    scheduled_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    run_date: Mapped[dt.date] = mapped_column(Date, index=True)
    due_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    status: Mapped[RunStatus] = mapped_column(
        Enum(RunStatus, native_enum=False, length=16, create_constraint=True),
        default=RunStatus.pending,
    )
    reason_code: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    rule_ids: Mapped[list] = mapped_column(JSON, default=list)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(255))
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"))
    #: The plan revision this run follows (pending runs move to a new revision on an edit).
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)

    sop_plan: Mapped[SopPlan] = relationship()

    @property
    def status_label(self) -> str:
        """Chinese label of the status."""
        return RUN_STATUS_LABELS[self.status]


class SchedulerTick(db.Model):
    """The scheduler's last tick (one row per scheduler name), for ``/healthz`` and catch-up."""

    __tablename__ = "scheduler_ticks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    ticked_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    holder: Mapped[str] = mapped_column(String(255))


class PostStatus(enum.Enum):
    """A post is published when its tasks exist; ``cancelled`` withdraws it."""

    published = "published"
    cancelled = "cancelled"


class Post(db.Model):
    """The content of one SOP plan on one run date (one row per plan and date)."""

    __tablename__ = "posts"
    __table_args__ = (UniqueConstraint("sop_plan_id", "run_date"),
                      CheckConstraint("revision >= 1", name="revision_positive"))

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
    #: The plan revision the post was published with.
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
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


#: Longest personal note 附言 a front-line user may add to a post (characters).
NOTE_MAX_CHARS = 200
#: What joins the approved text and the personal note in the text that is sent.
NOTE_SEPARATOR = "\n\n"


class Task(db.Model):
    """One front-line user's copy of a post.

    The task points at its post's text and variant (``post_text``); it stores its own
    ``body`` (and ``body_sha256``) only where its text is not that post text with the staff
    member's name and branch (:attr:`text` gives the text either way).

    A personal ``note`` 附言 (checked by ``app.feed.notes.set_note``) is sent after the
    approved text: ``body`` then holds the final text, approved text + ``NOTE_SEPARATOR`` +
    note, and ``body_sha256`` its hash (:attr:`approved_text` gives the text without it).

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
        CheckConstraint(f"note IS NULL OR (body IS NOT NULL AND length(note) BETWEEN 1 AND"
                        f" {NOTE_MAX_CHARS})", name="note_in_body"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    post_text_id: Mapped[int | None] = mapped_column(ForeignKey("post_texts.id"))
    body: Mapped[str | None] = mapped_column(Text)
    body_sha256: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
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

    @property
    def approved_text(self) -> str:
        """The approved text for this staff member: :attr:`text` without the personal note."""
        if self.note is None:
            return self.text
        return self.body[:len(self.body) - len(NOTE_SEPARATOR) - len(self.note)]

    @property
    def shares_post_text(self) -> bool:
        """Whether the approved text is the post text with this staff member's fields."""
        return (self.post_text is not None and self.post_text.segments is not None
                and compose(self.post_text.segments, staff_fields(self.staff))
                == self.approved_text)
