"""SOP plan rules and the per-date overview of posts (daily tracking 日跟踪)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import case, func, select

from app.audit.chain import record
from app.auth.permissions import Action, require, scope
from app.broadcasts.audience import audience_of, plans_reaching, set_audience
from app.broadcasts.caps import candidate_of, cap_errors
from app.broadcasts.models import Post, PostStatus, SopPlan, Task, TaskStatus
from app.broadcasts.plan_rules import PlanInput, check_plan
from app.broadcasts.revisions import follow_revision, record_revision, snapshot
from app.broadcasts.schedules import parse_schedule
from app.content.models import ContentTemplate
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
        query = query.where(plans_reaching(branch_ids))
    return list(db.session.scalars(query))


def get_plan(viewer: User, plan_id: int) -> SopPlan:
    """One plan visible to ``viewer`` (as :func:`list_plans`).

    :raises PermissionDenied: for front-line users.
    :raises NotFound: unknown plan, or one that does not reach the viewer's scope.
    """
    require(viewer, Action.read_plans)
    query = select(SopPlan).where(SopPlan.id == plan_id)
    branch_ids = plan_branch_ids(viewer)
    if branch_ids is not None:
        query = query.where(plans_reaching(branch_ids))
    plan = db.session.scalar(query)
    if plan is None:
        raise NotFound("SOP 计划不存在")
    return plan


def create_plan(editor: User, data: PlanInput) -> SopPlan:
    """Create an active SOP plan (revision 1) sending an approved template to its audience.

    :param data: the planning fields (``app.broadcasts.plan_rules.PlanInput``).
    :returns: the new plan (flushed), with its audience, revision 1 and an audit entry.
    :raises PermissionDenied: unless the policy lets ``editor`` manage plans.
    :raises ValidationFailed: per-field Chinese messages: unknown calendar/time zone/branch/
        segment, template not approved, bad schedule, seasonal template outside its window,
        a duplicate active plan (key ``plan``), or a frequency cap exceeded (``frequency``).
    """
    require(editor, Action.manage_plans)
    template, schedule = _checked(data, None)
    plan = SopPlan(created_by_id=editor.id, is_active=True, branch_id=data.branch_ids[0])
    _apply(plan, data, template, schedule)
    db.session.add(plan)
    db.session.flush()
    set_audience(plan, data.branch_ids, data.segment_ids)
    fields = snapshot(plan, audience_of(plan))
    record_revision(plan, fields, editor.id)
    record(editor.id, "plan_created", "plan", plan.id, version=plan.revision, after=fields)
    return plan


def edit_plan(editor: User, plan_id: int, data: PlanInput) -> SopPlan:
    """Edit a plan as a new revision; pending runs follow it, what ran keeps its revision.

    An edit that changes nothing adds no revision.

    :returns: the plan (flushed) with ``revision`` one higher when something changed.
    :raises PermissionDenied: unless the policy lets ``editor`` manage plans.
    :raises NotFound: unknown plan.
    :raises ValidationFailed: as :func:`create_plan`, or the plan is archived (``plan``).
    """
    require(editor, Action.manage_plans)
    plan = _plan(plan_id)
    if plan.archived_at is not None:
        raise ValidationFailed("已归档的计划不能修改", {"plan": "已归档的计划不能修改"})
    template, schedule = _checked(data, plan.id)
    before = snapshot(plan, audience_of(plan))
    _apply(plan, data, template, schedule)
    set_audience(plan, data.branch_ids, data.segment_ids)
    after = snapshot(plan, audience_of(plan))
    changed = sorted(key for key in after if after[key] != before[key])
    if not changed:
        return plan
    plan.revision += 1
    record_revision(plan, after, editor.id, before)
    follow_revision(plan, changed)
    record(editor.id, "plan_edited", "plan", plan.id, version=plan.revision,
           before={key: before[key] for key in changed},
           after={key: after[key] for key in changed})
    return plan


def _checked(data: PlanInput, plan_id: int | None):
    """The template and schedule of valid ``data``; raises with every problem otherwise."""
    errors, template = check_plan(data, plan_id)
    if not errors:
        errors = cap_errors(candidate_of(data, template, plan_id))
    if errors:
        raise ValidationFailed("SOP 计划无效", errors)
    return template, parse_schedule(data.expression)


def _apply(plan: SopPlan, data: PlanInput, template: ContentTemplate, schedule) -> None:
    plan.name = data.name.strip()
    plan.template_id, plan.template = template.id, template
    plan.channel = data.channel or template.channel
    plan.calendar, plan.timezone = data.calendar, data.timezone
    plan.schedule = data.expression
    plan.send_time = schedule.time or data.send_time
    plan.start_date, plan.end_date, plan.max_runs = data.start_date, data.end_date, data.max_runs


def _plan(plan_id: int) -> SopPlan:
    plan = db.session.get(SopPlan, plan_id)
    if plan is None:
        raise NotFound("SOP 计划不存在")
    return plan


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
    plan = _plan(plan_id)
    if plan.archived_at is None:
        before = {"is_active": plan.is_active}
        plan.is_active, plan.archived_at = False, utcnow()
        db.session.flush()
        record(editor.id, "plan_archived", "plan", plan.id, version=plan.revision,
               before=before, after={"is_active": False,
                                     "archived_at": plan.archived_at.isoformat()})
    return plan


def set_plan_active(editor: User, plan_id: int, is_active: bool) -> SopPlan:
    """Pause or resume a plan (the scheduler picks it up at its next sync).

    :raises PermissionDenied: unless the policy lets ``editor`` manage plans.
    :raises NotFound: unknown plan.
    """
    require(editor, Action.manage_plans)
    plan = _plan(plan_id)
    if plan.archived_at is not None and is_active:
        raise ValidationFailed("已归档的计划不能再启用", {"plan": "已归档的计划不能再启用"})
    if plan.is_active is not is_active:
        errors = cap_errors(candidate_of(_input_of(plan), plan.template, plan.id)) \
            if is_active else {}  # a resumed plan counts against the caps again
        if errors:
            raise ValidationFailed("SOP 计划无效", errors)
        plan.is_active = is_active
        db.session.flush()
        record(editor.id, "plan_resumed" if is_active else "plan_paused", "plan", plan.id,
               version=plan.revision, before={"is_active": not is_active},
               after={"is_active": is_active})
    return plan


def _input_of(plan: SopPlan) -> PlanInput:
    """The plan's current planning fields as a :class:`PlanInput`."""
    audience = audience_of(plan)
    return PlanInput(plan.name, plan.template_id, audience.branch_ids, plan.send_time,
                     plan.calendar, plan.timezone, plan.schedule, plan.start_date,
                     plan.end_date, plan.max_runs, plan.channel, audience.segment_ids)


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
