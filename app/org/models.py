"""Organisation: branches (HQ → branch → sub-branch) and users with roles."""

from __future__ import annotations

import datetime as dt
import enum

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import utcnow
from app.core.db import UtcDateTime
from app.core.extensions import db


class BranchLevel(enum.Enum):
    """Level of a branch in the bank's tree."""

    hq = "hq"
    branch = "branch"
    sub_branch = "sub_branch"


class Role(enum.Enum):
    """What a user may do.

    ``editor`` and ``reviewer`` are middle office 中台; ``frontline`` is the front
    office 前台 (relationship manager 客户经理, teller 柜员); ``manager`` reads
    scorecards for a branch subtree; ``admin`` manages users and plans.
    """

    editor = "editor"
    reviewer = "reviewer"
    frontline = "frontline"
    manager = "manager"
    admin = "admin"


ROLE_LABELS = {
    Role.editor: "内容编辑（中台）",
    Role.reviewer: "合规复核（中台）",
    Role.frontline: "客户经理（前台）",
    Role.manager: "管理者",
    Role.admin: "系统管理员",
}


class Branch(db.Model):
    """A node of the bank's organisation tree.

    ``province_code`` is where the branch is (a sub-branch created without one takes its
    parent's). ``path`` is the materialised path of ids, e.g. ``/1/3/7/``, always starting and
    ending with ``/``, so a subtree is ``path LIKE '/1/3/%'`` in one query
    (``app.org.services.in_subtree``). On PostgreSQL its index uses ``text_pattern_ops``,
    so that LIKE can use it whatever the database collation.
    """

    __tablename__ = "branches"
    __table_args__ = (
        Index("ix_branches_path", "path", postgresql_ops={"path": "text_pattern_ops"}),
        CheckConstraint("path LIKE '/%' AND path LIKE '%/'", name="path_slashes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    level: Mapped[BranchLevel] = mapped_column(
        Enum(BranchLevel, native_enum=False, length=16, create_constraint=True)
    )
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"))
    path: Mapped[str] = mapped_column(String(255), default="/")
    #: GB/T 2260 code of the branch's province (``app.core.provinces``), e.g. ``"33"``;
    #: the valid-adds province quota compares customers' IP provinces with it.
    province_code: Mapped[str | None] = mapped_column(String(2))
    #: Set when the name passed the compliance check on save (``app.compliance.names``):
    #: SHA-256 of the rules and the name; the daily run re-checks a name without a match.
    name_check_sha256: Mapped[str | None] = mapped_column(String(64))

    parent: Mapped[Branch | None] = relationship(remote_side=[id])

    def __repr__(self) -> str:
        return f"<Branch {self.code}>"


class User(UserMixin, db.Model):
    """A person who logs in: middle-office staff, front-line staff, managers, admins.

    ``api_token_sha256`` holds the SHA-256 hex digest of the user's API token;
    the token itself is shown once and never stored. ``session_version`` is part of the
    login session's user id (``get_id``): raising it (logout, password change or reset,
    deactivation) revokes every session of the user. ``must_change_password`` is set on an
    initial or reset password; the user must choose their own before using any page.
    ``wecom_userid`` is the user's WeCom (企业微信) userid, unique when set.
    """

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("session_version >= 0", name="session_version_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=16, create_constraint=True), index=True
    )
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True)
    api_token_sha256: Mapped[str | None] = mapped_column(String(64), unique=True)
    is_active_account: Mapped[bool] = mapped_column(default=True)
    is_demo: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    wecom_userid: Mapped[str | None] = mapped_column(String(64), unique=True)
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    password_changed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    #: Set when ``display_name`` passed the compliance check on save
    #: (``app.compliance.names``); the daily run re-checks a name without a match.
    name_check_sha256: Mapped[str | None] = mapped_column(String(64))

    branch: Mapped[Branch] = relationship()

    @property
    def is_active(self) -> bool:
        """Flask-Login reads this: deactivated accounts cannot log in."""
        return self.is_active_account

    def get_id(self) -> str:
        """Flask-Login stores this in the session: ``"<id>:<session_version>"``.

        The user loader (``app.auth.loaders``) accepts the session only while the version
        still matches, so bumping ``session_version`` revokes copied cookies too.
        """
        return f"{self.id}:{self.session_version}"

    @property
    def role_label(self) -> str:
        """Chinese label of the role, for the UI."""
        return ROLE_LABELS[self.role]

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role.value}>"
