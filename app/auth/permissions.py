"""The one permission policy: who may do what (``can``) and which rows they may see (``scope``).

Everything that decides access asks this module: the view decorators
(``app.auth.decorators``), the API decorator, the navigation and home pages, the services
(content review, SOP plans, daily tracking, scorecard) and the route-policy test.

Roles (``app.org.models.Role``): front-line staff 前台 (relationship managers 客户经理) use
their own tasks; middle-office editors 内容编辑 write content and plan SOPs; compliance
reviewers 合规复核 approve or reject content; managers read their branch subtree; admins
manage the system (users, branches, the audit log). Separation of duties: only a reviewer
approves, never the author of the version (four-eyes), and an admin is not a reviewer.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, select, true

from app.core.errors import NotFound, PermissionDenied
from app.core.extensions import db
from app.org.models import ROLE_LABELS, Branch, Role, User
from app.org.services import in_subtree


class Action(enum.Enum):
    """Everything a user may be allowed to do, one member per decision."""

    use_feed = "use_feed"  # 今日任务, mark done, log reactions, API and API token
    view_charts = "view_charts"  # market chart images (bank-wide data)
    read_content = "read_content"  # template list, versions, previews
    write_content = "write_content"  # create, edit, submit for review
    review_content = "review_content"  # approve or reject (four-eyes)
    retire_content = "retire_content"
    read_plans = "read_plans"  # SOP plan list
    manage_plans = "manage_plans"  # create, pause, resume SOP plans
    read_tracking = "read_tracking"  # 日跟踪
    withdraw_posts = "withdraw_posts"  # 撤回 a published post (WeCom tasks cancelled)
    read_scorecard = "read_scorecard"  # 考核看板, its chart and CSV
    manage_users = "manage_users"  # 用户管理: create, edit, deactivate, reset password
    manage_branches = "manage_branches"  # 机构管理: create, rename, move branches
    read_audit = "read_audit"  # 审计日志: browse (managers: their subtree's users, branches)
    export_audit = "export_audit"  # 审计日志 export (XLSX)
    read_coverage = "read_coverage"  # 覆盖率 and valid adds of a branch subtree, flagged adds
    use_customer_book = "use_customer_book"  # 我的客户: own coverage, follow-up list, own adds
    import_customers = "import_customers"  # upload customer, contact, verification files


_EVERYONE = frozenset(Role)
_MIDDLE_OFFICE = frozenset({Role.editor, Role.reviewer})
_ADMIN = frozenset({Role.admin})

_FRONT_LINE = frozenset({Role.frontline, Role.admin})

#: Action → roles allowed. An admin is listed explicitly where allowed, never for review.
POLICY: dict[Action, frozenset[Role]] = {
    Action.use_feed: _FRONT_LINE,
    Action.view_charts: _EVERYONE,
    Action.read_content: _MIDDLE_OFFICE | {Role.admin},
    Action.write_content: frozenset({Role.editor, Role.admin}),
    Action.review_content: frozenset({Role.reviewer}),
    Action.retire_content: _MIDDLE_OFFICE | {Role.admin},
    Action.read_plans: _MIDDLE_OFFICE | {Role.manager, Role.admin},
    Action.manage_plans: frozenset({Role.editor, Role.admin}),
    Action.read_tracking: _MIDDLE_OFFICE | {Role.manager, Role.admin},
    Action.withdraw_posts: _MIDDLE_OFFICE | {Role.admin},
    Action.read_scorecard: _MIDDLE_OFFICE | {Role.manager, Role.admin},
    Action.manage_users: _ADMIN,
    Action.manage_branches: _ADMIN,
    Action.read_audit: frozenset({Role.manager, Role.admin}),
    Action.export_audit: frozenset({Role.manager, Role.admin}),
    Action.read_coverage: _MIDDLE_OFFICE | {Role.manager, Role.admin},
    Action.use_customer_book: _FRONT_LINE,
    Action.import_customers: _ADMIN,
}

#: Start page (endpoint) of each role after login.
HOME_ENDPOINTS: dict[Role, str] = {
    Role.frontline: "feed.today",
    Role.editor: "content.index",
    Role.reviewer: "content.index",
    Role.manager: "metrics.scorecard",
    Role.admin: "content.index",
}

#: Roles that read the whole bank; managers read their subtree, front-line staff their own rows.
HEAD_OFFICE_ROLES = frozenset({Role.admin, Role.editor, Role.reviewer})


def roles_for(action: Action) -> frozenset[Role]:
    """The roles allowed to perform ``action`` (the route-policy test reads this)."""
    return POLICY[action]


def can(user: User | None, action: Action, obj: object | None = None) -> bool:
    """Whether ``user`` may perform ``action``, on ``obj`` when given.

    :param user: the acting user; ``None`` or an inactive user may do nothing.
    :param action: an :class:`Action`.
    :param obj: optional target. ``TemplateVersion`` (review: the user did not write it);
        ``Task`` (the user's own task); ``Branch`` (inside the user's data scope).
    :returns: ``True`` when the role allows the action and the object checks hold.
    """
    if user is None or not getattr(user, "is_authenticated", True) or not user.is_active:
        return False  # anonymous (Flask-Login's AnonymousUserMixin) or deactivated
    if user.role not in POLICY[action]:
        return False
    if obj is None:
        return True
    return _object_allowed(user, action, obj)


def _object_allowed(user: User, action: Action, obj: object) -> bool:
    """Object rules. Models of higher layers (versions, tasks) are matched by their columns."""
    if action is Action.review_content:
        return obj.author_id != user.id  # a TemplateVersion: four-eyes, never one's own
    if action is Action.use_feed:
        return obj.staff_id == user.id  # a Task: only its own staff member
    if isinstance(obj, Branch):
        return scope(user).includes_branch(obj)
    raise TypeError(f"no object rule for {type(obj).__name__} under {action.value}")


def require(user: User | None, action: Action, obj: object | None = None) -> None:
    """Raise unless :func:`can` allows ``action`` (on ``obj``).

    :raises PermissionDenied: with a Chinese message naming the roles allowed, or the
        four-eyes rule for reviewing one's own version.
    """
    if can(user, action, obj):
        return
    if action is Action.review_content and getattr(user, "role", None) in POLICY[action]:
        raise PermissionDenied("不能复核自己编写的版本（双人复核）")
    names = "、".join(ROLE_LABELS[role] for role in Role if role in POLICY[action])
    raise PermissionDenied(f"需要以下角色之一：{names}")


@dataclass(frozen=True)
class DataScope:
    """The rows a user may read: the whole bank, a branch subtree, or their own rows only.

    ``branch_path`` is the materialised path of the subtree root (``/1/3/``) for managers;
    ``user_id`` is set for front-line staff, who see only rows about themselves.
    """

    is_whole_bank: bool = False
    branch_path: str | None = None
    user_id: int | None = None

    def includes_branch(self, branch: Branch) -> bool:
        """Whether ``branch`` lies inside the scope (front-line staff: no branch at all)."""
        if self.is_whole_bank:
            return True
        return self.branch_path is not None and branch.path.startswith(self.branch_path)

    def branch_clause(self) -> ColumnElement[bool]:
        """SQL condition on ``Branch.path`` for this scope (``app.org.services.in_subtree``)."""
        if self.is_whole_bank:
            return true()
        if self.branch_path is None:
            return false()  # own-rows scope: no branch-level rows
        return in_subtree(self.branch_path)

    def staff_clause(self, staff_id_column) -> ColumnElement[bool]:
        """SQL condition on a column holding a staff member's user id (``Task.staff_id``)."""
        if self.is_whole_bank:
            return true()
        if self.user_id is not None:
            return staff_id_column == self.user_id
        staff_in_subtree = select(User.id).join(Branch, User.branch_id == Branch.id).where(
            self.branch_clause())
        return staff_id_column.in_(staff_in_subtree)


def branch_in_scope(viewer: User, action: Action, branch_id: int | None) -> Branch | None:
    """The subtree root ``viewer`` asks to read under ``action``, checked against their scope.

    :param branch_id: requested root; ``None`` = the viewer's default (whole bank for
        head-office roles, own branch for a manager).
    :returns: the branch, or ``None`` for the whole bank.
    :raises PermissionDenied: the role may not perform ``action``, or the branch lies
        outside the viewer's subtree.
    :raises NotFound: no such branch.
    """
    require(viewer, action)
    if branch_id is None:
        return None if scope(viewer).is_whole_bank else viewer.branch
    branch = db.session.get(Branch, branch_id)
    if branch is None:
        raise NotFound("机构不存在")
    if not can(viewer, action, branch):
        raise PermissionDenied("只能查看本机构及下辖机构的数据")
    return branch


def scope(user: User) -> DataScope:
    """The data scope of ``user``: all for head-office roles, subtree for managers, own rows else.

    :param user: a user with ``branch`` loadable.
    :returns: a :class:`DataScope`; front-line staff (and any role not listed) get own rows only.
    """
    if user.role in HEAD_OFFICE_ROLES:
        return DataScope(is_whole_bank=True)
    if user.role is Role.manager:
        return DataScope(branch_path=user.branch.path)
    return DataScope(user_id=user.id)
