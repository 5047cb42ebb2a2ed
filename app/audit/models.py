"""The audit log's rows: events and the head of their hash chain."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.audit.labels import ACTION_LABELS, OBJECT_LABELS
from app.core.clock import utcnow
from app.core.db import UtcDateTime
from app.core.extensions import db

#: Hash of "no previous entry" (the first entry's ``prev_sha256``).
GENESIS = "0" * 64


class AuditEvent(db.Model):
    """One recorded action; never updated or deleted by the application.

    ``entry_sha256`` is the SHA-256 of the entry's canonical JSON, which includes
    ``prev_sha256``, the previous entry's ``entry_sha256`` (:mod:`app.audit.chain`).
    ``before``/``after`` hold the object's audited fields as plain JSON (never a password,
    hash or token); ``content_sha256`` identifies the text concerned (a template version's
    body, an imported file).
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_object", "object_type", "object_id"),
        CheckConstraint("length(prev_sha256) = 64", name="prev_sha256_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(48), index=True)
    object_type: Mapped[str] = mapped_column(String(24))
    object_id: Mapped[int | None] = mapped_column(Integer)
    object_version: Mapped[int | None] = mapped_column(Integer)
    content_sha256: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    prev_sha256: Mapped[str] = mapped_column(String(64))
    entry_sha256: Mapped[str] = mapped_column(String(64), unique=True)

    actor = relationship("User")

    @property
    def action_label(self) -> str:
        """Chinese label of the action."""
        return ACTION_LABELS.get(self.action, self.action)

    @property
    def object_label(self) -> str:
        """Chinese label of the object type."""
        return OBJECT_LABELS.get(self.object_type, self.object_type)

    def changes(self) -> list[tuple[str, object, object]]:
        """``(field, before, after)`` for each field that differs (all fields of a creation)."""
        before, after = self.before or {}, self.after or {}
        return [(key, before.get(key), after.get(key)) for key in sorted(set(before) | set(after))
                if before.get(key) != after.get(key)]

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} {self.action} {self.object_type}:{self.object_id}>"


class AuditChainHead(db.Model):
    """The single row (``id = 1``) naming the last entry; appends lock it, one at a time."""

    __tablename__ = "audit_chain_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    last_event_id: Mapped[int | None] = mapped_column(Integer)
    last_sha256: Mapped[str] = mapped_column(String(64), default=GENESIS)
