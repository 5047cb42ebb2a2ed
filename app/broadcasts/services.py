"""SOP plan rules and the per-date overview of posts (daily tracking 日跟踪)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import case, func, select

from app.auth.permissions import Action, require, scope
from app.broadcasts.calendars import CALENDAR_LABELS
from app.broadcasts.models import Post, PostStatus, SopPlan, Task, TaskStatus
from app.broadcasts.schedules import ScheduleError, parse_schedule, schedule_for
from app.content.models import ContentTemplate, TemplateStatus
from app.core.clock import utcnow
from app.core.errors import NotFound, ValidationFailed
from app.core.extensions import db
from app.org.models import Branch, User


def plan_branch_ids(viewer: User) -> list[int] | None:
    """Branch ids whose SOP plans reach ``viewer``'s data scope; ``None`` = every branch.

    A plan targets a branch subtree, so a manager's staff receive the plans of the
    manager's subtree and of the branches above it (e.g. an HQ-wide plan), never those
    of a sibling branch.

    :returns: sorted ids (subtree plus ancestors of the viewer's branch), or ``None`` for
        middle office and admin.
    """
    data_scope = scope(viewer)
    if data_scope.is_whole_bank:
        return None
    subtree = db.session.scalars(select(Branch.id).where(data_scope.branch_clause()))
    ancestors = {int(part) for part in viewer.branch.path.split("/") if part}
    return sorted(set(subtree) | ancestors)


def list_plans(viewer: User) -> list[SopPlan]:
    """Plans visible to ``viewer``: all for middle office/admin, for managers those reaching them.

    A manager sees the plans of their subtree and of the branches above it (``plan_branch_ids``).

    :raises PermissionDenied: for front-line users.
    """
    require(viewer, Action.read_plans)
    query = select(SopPlan).order_by(SopPlan.send_time, SopPlan.id)
    branch_ids = plan_branch_ids(viewer)
    if branch_ids is not None:
        query = query.where(SopPlan.branch_id.in_(branch_ids))
    return list(db.session.scalars(query))


def create_plan(editor: User, name: str, template_id: int, branch_id: int,
                send_time: dt.time, calendar: str, timezone: str = "Asia/Shanghai",
                schedule: str | None = None, start_date: dt.date | None = None,
                end_date: dt.date | None = None, max_runs: int | None = None) -> SopPlan:
    """Create an active SOP plan sending an approved template to a branch subtree.

    :param send_time: wall-clock time in ``timezone``.
    :param calendar: a code from ``CALENDAR_LABELS`` (``XSHG``, ``weekdays`` …).
    :param schedule: a schedule expression (``app.broadcasts.schedules``) that replaces
        ``calendar`` and ``send_time``; default: their expression.
    :param start_date: first date (in ``timezone``) of the plan's occurrences, optional.
    :param end_date: last date, optional. :param max_runs: at most this many runs, optional.
    :raises PermissionDenied: unless the policy lets ``editor`` manage plans.
    :raises ValidationFailed: unknown calendar/timezone, template not approved, unknown branch,
        or an active plan with the same template, branch and send time (key ``plan``).
    """
    require(editor, Action.manage_plans)
    errors = {}
    if calendar not in CALENDAR_LABELS:
        errors["calendar"] = "未知的日历"
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        errors["timezone"] = "未知的时区"
    template = db.session.get(ContentTemplate, template_id)
    if template is None or template.status is not TemplateStatus.approved:
        errors["template_id"] = "只能选择已批准的模板"
    if db.session.get(Branch, branch_id) is None:
        errors["branch_id"] = "机构不存在"
    if not name.strip():
        errors["name"] = "请填写计划名称"
    if schedule:
        try:
            parse_schedule(schedule)
        except ScheduleError as error:
            errors["schedule"] = str(error)
    if start_date and end_date and end_date < start_date:
        errors["end_date"] = "结束日期不能早于开始日期"
    if max_runs is not None and max_runs < 1:
        errors["max_runs"] = "运行次数上限至少为 1"
    duplicate = _active_duplicate(template_id, branch_id, send_time)
    if duplicate is not None:
        errors["plan"] = (f"已有运行中的计划「{duplicate.name}」使用同一模板、同一下发范围和"
                          f"同一发送时间 {send_time:%H:%M}，不能重复创建")
    if errors:
        raise ValidationFailed("SOP 计划无效", errors)
    plan = SopPlan(name=name.strip(), template_id=template_id, branch_id=branch_id,
                   send_time=send_time, calendar=calendar, timezone=timezone,
                   schedule=schedule.strip() if schedule else schedule_for(calendar, send_time),
                   start_date=start_date, end_date=end_date, max_runs=max_runs,
                   created_by_id=editor.id)
    db.session.add(plan)
    db.session.flush()
    return plan


def _active_duplicate(template_id: int, branch_id: int, send_time: dt.time) -> SopPlan | None:
    """An active plan that would send the same template to the same branch at the same time."""
    return db.session.scalars(select(SopPlan).where(
        SopPlan.template_id == template_id, SopPlan.branch_id == branch_id,
        SopPlan.send_time == send_time, SopPlan.is_active.is_(True),
    ).limit(1)).first()


def active_plan_count(template_id: int) -> int:
    """Number of active SOP plans that send this template (shown before retiring it)."""
    return db.session.scalar(select(func.count(SopPlan.id)).where(
        SopPlan.template_id == template_id, SopPlan.is_active.is_(True))) or 0


def archive_plan(editor: User, plan_id: int) -> SopPlan:
    """Archive a plan: it stops (its pending runs are cancelled at the next tick) and is kept.

    :raises PermissionDenied: unless the policy lets ``editor`` manage plans.
    :raises NotFound: unknown plan.
    """
    require(editor, Action.manage_plans)
    plan = db.session.get(SopPlan, plan_id)
    if plan is None:
        raise NotFound("SOP 计划不存在")
    plan.is_active = False
    plan.archived_at = plan.archived_at or utcnow()
    db.session.flush()
    return plan


def set_plan_active(editor: User, plan_id: int, is_active: bool) -> SopPlan:
    """Pause or resume a plan (the scheduler picks it up at its next sync).

    :raises PermissionDenied: unless the policy lets ``editor`` manage plans.
    :raises NotFound: unknown plan.
    """
    require(editor, Action.manage_plans)
    plan = db.session.get(SopPlan, plan_id)
    if plan is None:
        raise NotFound("SOP 计划不存在")
    if plan.archived_at is not None and is_active:
        raise ValidationFailed("已归档的计划不能再启用", {"plan": "已归档的计划不能再启用"})
    plan.is_active = is_active
    db.session.flush()
    return plan


def toggle_plan(editor: User, plan_id: int) -> SopPlan:
    """Pause an active plan or resume a paused one.

    :returns: the plan with its new ``is_active``.
    :raises PermissionDenied: unless the policy lets ``editor`` manage plans.
    :raises NotFound: unknown plan.
    """
    plan = db.session.get(SopPlan, plan_id)
    return set_plan_active(editor, plan_id, not (plan is not None and plan.is_active))


@dataclass(frozen=True)
class PostProgress:
    """A post on a date with its execution progress (tasks done / assigned) and status."""

    post_id: int
    sop_name: str
    template_title: str
    scheduled_at: dt.datetime
    assigned: int
    done: int
    status: PostStatus = PostStatus.published

    @property
    def is_withdrawn(self) -> bool:
        """Whether the post was withdrawn 撤回 (its tasks left 今日任务)."""
        return self.status is PostStatus.cancelled

    @property
    def execution_rate(self) -> float | None:
        """Done ÷ assigned, 0..1, or ``None`` without tasks."""
        return self.done / self.assigned if self.assigned else None


def posts_on(viewer: User, run_date: dt.date) -> list[PostProgress]:
    """Posts of ``run_date`` with task counts limited to the viewer's branch scope.

    :raises PermissionDenied: for front-line users.
    """
    require(viewer, Action.read_tracking)
    done = func.sum(case((Task.status == TaskStatus.done, 1), else_=0))
    query = (
        select(Post.id, SopPlan.name, ContentTemplate.title, Post.scheduled_at,
               func.count(Task.id), done, Post.status)
        .join(SopPlan, Post.sop_plan_id == SopPlan.id)
        .join(ContentTemplate, SopPlan.template_id == ContentTemplate.id)
        .join(Task, Task.post_id == Post.id)
        .join(User, Task.staff_id == User.id)
        .where(Post.run_date == run_date)
        .group_by(Post.id, SopPlan.name, ContentTemplate.title, Post.scheduled_at, Post.status)
        .order_by(Post.scheduled_at, Post.id)
    )
    query = query.where(scope(viewer).staff_clause(Task.staff_id))
    return [PostProgress(*row[:5], int(row[5] or 0), row[6])
            for row in db.session.execute(query)]


@dataclass(frozen=True)
class PendingStaff:
    """A front-line user who has not completed a post's task yet."""

    name: str
    branch_name: str


def pending_staff_on(viewer: User, run_date: dt.date) -> dict[int, list[PendingStaff]]:
    """Per post of ``run_date``, the staff in the viewer's scope whose task is still open.

    :returns: ``{post_id: [PendingStaff, ...]}`` ordered by branch path then name; posts
        whose tasks are all done are absent.
    :raises PermissionDenied: for front-line users.
    """
    require(viewer, Action.read_tracking)
    query = (
        select(Task.post_id, User.display_name, Branch.name)
        .join(Post, Task.post_id == Post.id)
        .join(User, Task.staff_id == User.id)
        .join(Branch, User.branch_id == Branch.id)
        .where(Post.run_date == run_date, Task.status != TaskStatus.done,
               Post.status == PostStatus.published)
        .order_by(Task.post_id, Branch.path, User.display_name)
    )
    query = query.where(scope(viewer).staff_clause(Task.staff_id))
    result: dict[int, list[PendingStaff]] = {}
    for post_id, name, branch_name in db.session.execute(query):
        result.setdefault(post_id, []).append(PendingStaff(name, branch_name))
    return result
