"""A plan's audience rows and its revisions (``plan_audience``, ``sop_plan_revisions``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import utcnow
from app.core.db import UtcDateTime
from app.core.extensions import db


class PlanAudience(db.Model):
    """One entry of a plan's audience: a branch subtree, or (群发 only) a customer segment.

    Exactly one of ``branch_id`` / ``segment_id`` is set. ``position`` orders the entries
    as the editor chose them (position 0 is the plan's first branch, ``sop_plans.branch_id``).
    """

    __tablename__ = "plan_audience"
    __table_args__ = (
        UniqueConstraint("sop_plan_id", "branch_id"),
        UniqueConstraint("sop_plan_id", "segment_id"),
        CheckConstraint("(branch_id IS NULL) <> (segment_id IS NULL)",
                        name="branch_or_segment"),
        CheckConstraint("position >= 0", name="position_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sop_plan_id: Mapped[int] = mapped_column(ForeignKey("sop_plans.id"), index=True)
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"), index=True)
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("segments.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    branch = relationship("Branch")
    segment = relationship("Segment")


class SopPlanRevision(db.Model):
    """One revision of a plan: its planning fields as they were from ``created_at`` on.

    ``fields`` (JSON): ``name``, ``template_id``, ``template_title``, ``schedule``,
    ``timezone``, ``start_date``/``end_date`` (ISO dates or null), ``max_runs``,
    ``channel``, ``branch_ids``, ``branch_names``, ``segment_codes``; ``changed`` lists the
    keys that differ from the revision before (empty for revision 1). Runs and posts keep
    the number of the revision they ran with (``plan_runs.revision``, ``posts.revision``).
    """

    __tablename__ = "sop_plan_revisions"
    __table_args__ = (UniqueConstraint("sop_plan_id", "number"),
                      CheckConstraint("number >= 1", name="number_positive"))

    id: Mapped[int] = mapped_column(primary_key=True)
    sop_plan_id: Mapped[int] = mapped_column(ForeignKey("sop_plans.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    fields: Mapped[dict] = mapped_column(JSON)
    changed: Mapped[list] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)

    created_by = relationship("User")
