"""Administration rules: user accounts and the branch tree, each change written to the audit log.

Every function takes the acting admin and plain values, flushes, and records one
:class:`~app.audit.models.AuditEvent` per change in the one audit log (never a password, hash
or token).
Views check ``manage_users`` / ``manage_branches`` (``app.auth.permissions``) first.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, or_, select

from app.admin.names import checked_name
from app.audit import chain
from app.audit.models import AuditEvent
from app.auth import throttle
from app.auth.passwords import generate_password
from app.auth.services import revoke_sessions, set_password
from app.connector.tasks import apply_member_events
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.extensions import db
from app.core.tasks import enqueue
from app.org import services as org
from app.org.models import Branch, BranchLevel, Role, User

PAGE_SIZE = 50


@dataclass(frozen=True)
class Page:
    """One page of rows: ``items``, the 1-based ``number`` and the count of ``pages``."""

    items: list
    number: int
    pages: int
    total: int


def _page(statement, number: int, count_statement) -> Page:
    total = db.session.scalar(count_statement) or 0
    pages = max(1, math.ceil(total / PAGE_SIZE))
    number = min(max(1, number), pages)
    items = list(db.session.scalars(statement.limit(PAGE_SIZE).offset((number - 1) * PAGE_SIZE)))
    return Page(items, number, pages, total)


def record(actor: User | None, action: str, target_type: str, target_id: int,
           before: dict | None, after: dict | None) -> AuditEvent:
    """Append one event to the audit log (``action`` is a key of ``ACTION_LABELS``).

    ``actor`` ``None``: the system (a CLI command run on the server).
    """
    return chain.record(actor.id if actor is not None else None, action, target_type,
                        target_id, before=before, after=after)


def user_snapshot(user: User) -> dict:
    """The audited fields of ``user`` as JSON values (no password, hash or token)."""
    return {"username": user.username, "display_name": user.display_name,
            "role": user.role.value, "branch": f"{user.branch.code} {user.branch.name}",
            "wecom_userid": user.wecom_userid, "is_active": user.is_active_account,
            "must_change_password": user.must_change_password,
            "has_api_token": user.api_token_sha256 is not None}


def branch_snapshot(branch: Branch) -> dict:
    """The audited fields of ``branch`` as JSON values."""
    parent = branch.parent
    return {"code": branch.code, "name": branch.name, "level": branch.level.value,
            "parent": f"{parent.code} {parent.name}" if parent is not None else None,
            "path": branch.path}


def list_users(query: str, branch_id: int | None, role: Role | None, page: int) -> Page:
    """Users matching the filters, by username, one page of ``PAGE_SIZE``.

    :param query: part of the username, display name or WeCom userid ("" for all).
    :param branch_id: that branch and its whole subtree, or ``None`` for all.
    :param role: only this role, or ``None``.
    :raises NotFound: unknown ``branch_id``.
    """
    conditions = []
    if query:
        conditions.append(or_(*(column.contains(query, autoescape=True) for column in (
            User.username, User.display_name, User.wecom_userid))))
    if branch_id is not None:
        subtree = org.get_branch(branch_id).path
        conditions.append(User.branch_id.in_(
            select(Branch.id).where(org.in_subtree(subtree))))
    if role is not None:
        conditions.append(User.role == role)
    statement = select(User).where(*conditions).order_by(User.username)
    return _page(statement, page, select(func.count(User.id)).where(*conditions))


def get_user(user_id: int) -> User:
    """The user with this id.

    :raises NotFound: no such user.
    """
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("用户不存在")
    return user


def _check_unique(username: str | None, wecom_userid: str | None, user_id: int | None) -> None:
    """Usernames and WeCom userids are unique, compared without case."""
    checks = [("username", User.username, username, "用户名已存在"),
              ("wecom_userid", User.wecom_userid, wecom_userid, "企业微信 ID 已被其他用户使用")]
    for field, column, value, message in checks:
        if not value:
            continue
        other = db.session.scalar(select(User.id).where(func.lower(column) == value.lower(),
                                                        User.id != (user_id or 0)))
        if other is not None:
            raise ValidationFailed(message, errors={field: [message]})


def create_user(actor: User | None, username: str, display_name: str, role: Role, branch_id: int,
                wecom_userid: str | None, password: str | None,
                now: dt.datetime) -> tuple[User, str | None]:
    """Create an account whose first login must set a new password.

    :param actor: the admin, or ``None`` for ``flask users create``.
    :param password: the initial password, or ``None`` to generate one.
    :returns: the user and the generated password (``None`` when one was given), to be
        shown once and never stored in clear.
    :raises ValidationFailed: duplicate username or WeCom userid, a weak password, or a
        display name with a blocking compliance finding.
    :raises NotFound: unknown branch.
    """
    marker = checked_name(display_name, "display_name", "显示名")
    _check_unique(username, wecom_userid, None)
    branch = org.get_branch(branch_id)
    generated = None if password else generate_password(current_app.config["PASSWORD_MIN_LENGTH"])
    user = User(username=username, display_name=display_name, role=role, branch=branch,
                wecom_userid=wecom_userid or None, password_hash="", session_version=0,
                name_check_sha256=marker)
    set_password(user, password or generated, must_change=True, now=now)
    db.session.add(user)
    db.session.flush()
    record(actor, "user_created", "user", user.id, None, user_snapshot(user))
    _apply_contact_events(user)
    return user, generated


def update_user(actor: User, user_id: int, display_name: str, role: Role, branch_id: int,
                wecom_userid: str | None) -> User:
    """Change a user's display name, role, branch or WeCom userid.

    Giving a user a WeCom userid applies the contact events WeCom sent for that member
    before the link (queued: ``app.connector.tasks.apply_member_events``).

    :raises Conflict: an admin changing their own role (they could lock everyone out).
    :raises ValidationFailed: WeCom userid used by another user, or a display name with a
        blocking compliance finding.
    :raises NotFound: unknown user or branch.
    """
    user = get_user(user_id)
    if user.id == actor.id and role is not user.role:
        raise Conflict("不能修改自己的角色，请由另一位系统管理员操作")
    marker = checked_name(display_name, "display_name", "显示名")
    _check_unique(None, wecom_userid, user.id)
    before = user_snapshot(user)
    user.display_name, user.role, user.name_check_sha256 = display_name, role, marker
    user.branch = org.get_branch(branch_id)
    user.wecom_userid = wecom_userid or None
    db.session.flush()
    after = user_snapshot(user)
    if after != before:
        record(actor, "user_updated", "user", user.id, before, after)
    _apply_contact_events(user)
    return user


def _apply_contact_events(user: User) -> None:
    """Queue applying the WeCom contact events received before ``user`` had their userid.

    On a worker after this unit of work commits; in-process (the default): at once.
    """
    if user.wecom_userid:
        enqueue(apply_member_events, user.wecom_userid)


def set_user_active(actor: User, user_id: int, active: bool) -> User:
    """Deactivate (sessions and API token refused at once) or reactivate an account.

    :raises Conflict: an admin deactivating themselves.
    """
    user = get_user(user_id)
    if user.id == actor.id and not active:
        raise Conflict("不能停用自己的账户")
    if user.is_active_account is active:
        return user
    before = user_snapshot(user)
    user.is_active_account = active
    revoke_sessions(user)
    record(actor, "user_reactivated" if active else "user_deactivated", "user", user.id,
           before, user_snapshot(user))
    return user


def reset_password(actor: User, user_id: int, now: dt.datetime) -> tuple[User, str]:
    """Give the user a generated password to change at next login.

    Also ends their sessions, revokes their API token and lifts a login lock.

    :returns: the user and the new password, to be shown once.
    :raises Conflict: an admin resetting their own password (they use 修改密码).
    """
    user = get_user(user_id)
    if user.id == actor.id:
        raise Conflict("请通过「修改密码」修改自己的密码")
    before = user_snapshot(user)
    password = generate_password(current_app.config["PASSWORD_MIN_LENGTH"])
    set_password(user, password, must_change=True, now=now)
    user.api_token_sha256 = None
    throttle.clear_failures(user.username)
    db.session.flush()
    record(actor, "password_reset", "user", user.id, before, user_snapshot(user))
    return user, password


def locked_users(users: list[User], now: dt.datetime) -> dict[int, dt.datetime]:
    """User id → end of the login lock (aware UTC), for those of ``users`` locked now."""
    ends = throttle.locks_for([user.username for user in users], now)
    return {user.id: ends[user.username] for user in users if user.username in ends}


def create_branch(actor: User, code: str, name: str, level: BranchLevel,
                  parent_id: int | None) -> Branch:
    """Add a branch to the tree (rules: ``app.org.services.create_branch``).

    :raises ValidationFailed: also for a name with a blocking compliance finding.
    """
    marker = checked_name(name, "name", "机构名称")
    branch = org.create_branch(code, name, level, parent_id)
    branch.name_check_sha256 = marker
    record(actor, "branch_created", "branch", branch.id, None, branch_snapshot(branch))
    return branch


def update_branch(actor: User, branch_id: int, code: str, name: str, level: BranchLevel,
                  parent_id: int | None) -> Branch:
    """Rename, re-level or move a branch with its subtree (``app.org.services.update_branch``).

    :raises ValidationFailed: also for a name with a blocking compliance finding.
    """
    marker = checked_name(name, "name", "机构名称")
    branch = org.get_branch(branch_id)
    before = branch_snapshot(branch)
    org.update_branch(branch, code, name, level, parent_id)
    branch.name_check_sha256 = marker
    db.session.flush()
    after = branch_snapshot(branch)
    if after != before:
        record(actor, "branch_updated", "branch", branch.id, before, after)
    return branch


def list_audit(page: int, target_type: str | None = None,
               target_id: int | None = None) -> Page:
    """Audit events, newest first, optionally of one target (``"user"``/``"branch"`` and id)."""
    conditions = []
    if target_type is not None and target_id is not None:
        conditions = [AuditEvent.object_type == target_type,
                      AuditEvent.object_id == target_id]
    statement = select(AuditEvent).where(*conditions).order_by(AuditEvent.id.desc())
    return _page(statement, page, select(func.count(AuditEvent.id)).where(*conditions))
