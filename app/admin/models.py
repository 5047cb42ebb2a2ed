"""The audit log of administration changes: who changed what, when, from what to what."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import utcnow
from app.core.db import UtcDateTime
from app.core.extensions import db
from app.org.models import User

#: Actions recorded, with their Chinese label for the audit page.
ACTION_LABELS = {
    "user_created": "创建用户",
    "user_updated": "修改用户",
    "user_deactivated": "停用用户",
    "user_reactivated": "启用用户",
    "password_reset": "重置密码",
    "branch_created": "创建机构",
    "branch_updated": "修改机构",
}
TARGET_LABELS = {"user": "用户", "branch": "机构"}
#: Chinese names of the audited fields (``user_snapshot``, ``branch_snapshot``).
FIELD_LABELS = {
    "username": "用户名", "display_name": "显示名", "role": "角色", "branch": "所属机构",
    "wecom_userid": "企业微信 ID", "is_active": "启用", "must_change_password": "须修改密码",
    "has_api_token": "有 API 令牌", "code": "机构代码", "name": "机构名称", "level": "层级",
    "parent": "上级机构", "path": "路径",
}


class AdminAuditEvent(db.Model):
    """One administration change.

    ``before`` and ``after`` hold the changed object's fields as plain JSON (never a
    password, hash or token); ``before`` is ``None`` for a creation.
    """

    __tablename__ = "admin_audit_events"
    __table_args__ = (Index("ix_admin_audit_events_target", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    target_type: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[int]
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)

    actor: Mapped[User] = relationship()

    @property
    def action_label(self) -> str:
        """Chinese label of the action."""
        return ACTION_LABELS.get(self.action, self.action)

    @property
    def target_label(self) -> str:
        """Chinese label of the target type."""
        return TARGET_LABELS.get(self.target_type, self.target_type)

    def changes(self) -> list[tuple[str, object, object]]:
        """``(field, before, after)`` for each field that differs (all fields of a creation)."""
        before, after = self.before or {}, self.after or {}
        return [(key, before.get(key), after.get(key)) for key in sorted(set(before) | set(after))
                if before.get(key) != after.get(key)]

    def __repr__(self) -> str:
        return f"<AdminAuditEvent {self.action} {self.target_type}:{self.target_id}>"
