"""The two-sided scorecard 考核看板, computed in SQL from raw tasks and interaction events.

Front office 前台 is measured on process (execution and on-time rates, replies);
middle office 中台 on outcomes (reach, engagement, inquiries, blocks/deletes,
conversions) per content template and SOP plan.

Scope rules shared by every query:
- a task belongs to the branch of its staff member (``users.branch_id``); a branch
  subtree is ``branches.path LIKE '<path>%'``;
- a task belongs to the run date of its post (``posts.run_date``, Asia/Shanghai
  calendar date); events count towards the run date of their task's post, whenever
  they occurred; tasks of cancelled posts are left out;
- each event's ``quantity`` is summed (an aggregated report may carry several customers).

Events are first summed per task, then joined to tasks, so a task with many events is
never counted twice. Rates are fractions 0..1, ``None`` when the denominator is 0.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import Float, and_, case, cast, func, select
from sqlalchemy.orm import aliased

from app.broadcasts.models import Post, PostStatus, SopPlan, Task, TaskStatus
from app.content.models import ContentTemplate, TemplateVersion
from app.errors import NotFound, PermissionDenied
from app.extensions import db
from app.interactions.models import InteractionEvent, InteractionKind
from app.metrics.records import (
    DailyPoint,
    FrontOfficeRow,
    MiddleOfficeRow,
    Scorecard,
    front_row,
    middle_row,
)
from app.org.models import Branch, Role, User
from app.org.services import scope_branch_ids

logger = logging.getLogger(__name__)

#: Roles that may open the scorecard (admin, middle office, managers).
SCORECARD_ROLES = (Role.admin, Role.editor, Role.reviewer, Role.manager)
_K = InteractionKind


@dataclass(frozen=True)
class Scope:
    """Filters of one computation: subtree ``path`` (``None`` = whole bank), run-date range.

    ``start`` and ``end`` are inclusive Asia/Shanghai calendar dates of ``posts.run_date``.
    """

    path: str | None
    start: dt.date
    end: dt.date


def _ratio(numerator, denominator):
    """SQL ``numerator / NULLIF(denominator, 0)`` as floating point (NULL when 0)."""
    return cast(numerator, Float) / func.nullif(denominator, 0)


def _sum_of(kinds: tuple[InteractionKind, ...], value=None):
    """SQL ``SUM(CASE WHEN kind IN kinds THEN value ELSE 0 END)``, value defaults to quantity."""
    value = InteractionEvent.quantity if value is None else value
    return func.sum(case((InteractionEvent.kind.in_(kinds), value), else_=0))


def _scoped_tasks(scope: Scope):
    """CTE of the tasks in scope, one row per task with 0/1 flags and reach."""
    is_done = Task.status == TaskStatus.done
    stmt = (
        select(
            Task.id.label("task_id"),
            Task.staff_id,
            User.branch_id,
            Task.post_id,
            Post.run_date,
            Post.sop_plan_id,
            TemplateVersion.template_id,
            case((is_done, 1), else_=0).label("is_done"),
            case((and_(is_done, Task.completed_at <= Task.due_at), 1), else_=0).label(
                "is_on_time"
            ),
            case((is_done, func.coalesce(Task.reach_count, 0)), else_=0).label("reach"),
        )
        .join(Post, Task.post_id == Post.id)
        .join(TemplateVersion, Post.template_version_id == TemplateVersion.id)
        .join(User, Task.staff_id == User.id)
        .where(Post.run_date.between(scope.start, scope.end))
        .where(Post.status != PostStatus.cancelled)
    )
    if scope.path is not None:
        stmt = stmt.join(Branch, User.branch_id == Branch.id).where(
            Branch.path.startswith(scope.path)
        )
    return stmt.cte("scoped_tasks")


def _event_totals(tasks):
    """Subquery: per task in scope, summed event quantities by kind and conversion amount."""
    return (
        select(
            InteractionEvent.task_id,
            _sum_of((_K.like,)).label("likes"),
            _sum_of((_K.comment,)).label("comments"),
            _sum_of((_K.inquiry,)).label("inquiries"),
            _sum_of((_K.reply,)).label("replies"),
            _sum_of((_K.block, _K.delete)).label("blocks_deletes"),
            _sum_of((_K.conversion,)).label("conversions"),
            _sum_of((_K.conversion,), func.coalesce(InteractionEvent.amount_cny, 0)).label(
                "conversion_amount_cny"
            ),
        )
        .join(tasks, tasks.c.task_id == InteractionEvent.task_id)
        .group_by(InteractionEvent.task_id)
        .subquery("event_totals")
    )


def _measures(tasks, events) -> list:
    """Aggregate columns (counts, sums and rates) over ``tasks`` left-joined to ``events``."""

    def total(column):
        return func.coalesce(func.sum(column), 0)

    assigned = func.count(tasks.c.task_id)
    done, on_time, reach = total(tasks.c.is_done), total(tasks.c.is_on_time), total(tasks.c.reach)
    likes, comments = total(events.c.likes), total(events.c.comments)
    inquiries, blocks = total(events.c.inquiries), total(events.c.blocks_deletes)
    conversions = total(events.c.conversions)
    return [
        assigned.label("tasks_assigned"),
        done.label("tasks_done"),
        on_time.label("tasks_on_time"),
        _ratio(done, assigned).label("execution_rate"),
        _ratio(on_time, assigned).label("on_time_rate"),
        total(events.c.replies).label("replies"),
        reach.label("reach"),
        func.count(tasks.c.post_id.distinct()).label("posts"),
        likes.label("likes"),
        comments.label("comments"),
        inquiries.label("inquiries"),
        _ratio(likes + comments + inquiries, reach).label("engagement_rate"),
        _ratio(inquiries, reach).label("inquiry_rate"),
        blocks.label("blocks_deletes"),
        _ratio(blocks, reach).label("block_delete_rate"),
        conversions.label("conversions"),
        total(events.c.conversion_amount_cny).label("conversion_amount_cny"),
        _ratio(conversions, reach).label("conversion_rate"),
    ]


def _grouped(scope: Scope, keys: list, joins, order_by) -> list[dict]:
    """Run one aggregate query grouped by ``keys`` and return its rows as dicts.

    :param keys: labelled key/label columns (functions of the CTE ``tasks``).
    :param joins: callable ``(stmt, tasks) -> stmt`` adding label joins.
    """
    tasks = _scoped_tasks(scope)
    events = _event_totals(tasks)
    key_columns = keys(tasks)
    stmt = select(*key_columns, *_measures(tasks, events)).select_from(
        tasks.outerjoin(events, events.c.task_id == tasks.c.task_id)
    )
    stmt = joins(stmt, tasks)
    if key_columns:
        stmt = stmt.group_by(*key_columns).order_by(*order_by(tasks))
    return [dict(row) for row in db.session.execute(stmt).mappings()]


def front_office_by_staff(scope: Scope) -> list[FrontOfficeRow]:
    """Process measures per staff member: one row per user with tasks in scope."""
    rows = _grouped(
        scope,
        lambda t: [t.c.staff_id.label("key"), User.display_name.label("label"),
                   User.username.label("username"), Branch.name.label("detail")],
        lambda s, t: s.join(User, User.id == t.c.staff_id).join(
            Branch, Branch.id == User.branch_id),
        lambda t: [User.display_name, t.c.staff_id],
    )
    return [front_row(r) for r in rows]


def front_office_by_branch(scope: Scope) -> list[FrontOfficeRow]:
    """Process measures per branch of the staff (the branch a user belongs to)."""
    rows = _grouped(
        scope,
        lambda t: [t.c.branch_id.label("key"), Branch.name.label("label"),
                   Branch.code.label("detail"), Branch.path.label("path")],
        lambda s, t: s.join(Branch, Branch.id == t.c.branch_id),
        lambda t: [Branch.path],
    )
    return [front_row(r) for r in rows]


def middle_office_by_template(scope: Scope) -> list[MiddleOfficeRow]:
    """Outcome measures per content template (author shown as the accountable editor)."""
    author = aliased(User)
    rows = _grouped(
        scope,
        lambda t: [t.c.template_id.label("key"), ContentTemplate.title.label("label"),
                   author.display_name.label("detail")],
        lambda s, t: s.join(ContentTemplate, ContentTemplate.id == t.c.template_id).join(
            author, author.id == ContentTemplate.author_id),
        lambda t: [ContentTemplate.title, t.c.template_id],
    )
    return [middle_row(r) for r in rows]


def middle_office_by_sop(scope: Scope) -> list[MiddleOfficeRow]:
    """Outcome measures per SOP plan (detail = the plan's template title)."""
    rows = _grouped(
        scope,
        lambda t: [t.c.sop_plan_id.label("key"), SopPlan.name.label("label"),
                   ContentTemplate.title.label("detail")],
        lambda s, t: s.join(SopPlan, SopPlan.id == t.c.sop_plan_id).join(
            ContentTemplate, ContentTemplate.id == SopPlan.template_id),
        lambda t: [SopPlan.name, t.c.sop_plan_id],
    )
    return [middle_row(r) for r in rows]


def totals(scope: Scope) -> tuple[FrontOfficeRow, MiddleOfficeRow]:
    """Whole-scope totals (one ungrouped query), as a front and a middle row labelled 合计."""
    (row,) = _grouped(scope, lambda t: [], lambda s, t: s, lambda t: [])
    row.update(key=None, label="合计", detail="")
    return front_row(row), middle_row(row)


def daily_series(scope: Scope) -> list[DailyPoint]:
    """Per run date with tasks in scope: execution rate and engagement rate, oldest first."""
    rows = _grouped(
        scope, lambda t: [t.c.run_date.label("run_date")], lambda s, t: s,
        lambda t: [t.c.run_date],
    )
    return [
        DailyPoint(
            run_date=r["run_date"], tasks_assigned=int(r["tasks_assigned"]),
            tasks_done=int(r["tasks_done"]), reach=int(r["reach"]),
            execution_rate=r["execution_rate"], engagement_rate=r["engagement_rate"],
        )
        for r in rows
    ]


def resolve_branch(viewer: User, branch_id: int | None) -> Branch | None:
    """Check that ``viewer`` may read the scorecard of ``branch_id``'s subtree.

    :param viewer: the logged-in user.
    :param branch_id: requested subtree root; ``None`` = the viewer's default (whole bank for
        admin/editor/reviewer, own branch for a manager).
    :returns: the subtree root, or ``None`` for the whole bank.
    :raises PermissionDenied: front-line users, and managers asking outside their subtree.
    :raises NotFound: ``branch_id`` does not exist.
    """
    if viewer.role not in SCORECARD_ROLES:
        raise PermissionDenied("前台员工无权查看考核看板")
    allowed = scope_branch_ids(viewer)
    if branch_id is None:
        return None if allowed is None else db.session.get(Branch, viewer.branch_id)
    branch = db.session.get(Branch, branch_id)
    if branch is None:
        raise NotFound("机构不存在")
    if allowed is not None and branch.id not in allowed:
        logger.info("scorecard refused user_id=%s branch_id=%s", viewer.id, branch_id)
        raise PermissionDenied("只能查看本机构及下辖机构的考核数据")
    return branch


def branch_choices(viewer: User) -> list[Branch]:
    """Branches ``viewer`` may select, ordered by tree path (empty for front-line users)."""
    if viewer.role not in SCORECARD_ROLES:
        return []
    allowed = scope_branch_ids(viewer)
    stmt = select(Branch).order_by(Branch.path)
    if allowed is not None:
        stmt = stmt.where(Branch.id.in_(allowed))
    return list(db.session.scalars(stmt))


def scorecard(viewer: User, branch_id: int | None, start: dt.date, end: dt.date) -> Scorecard:
    """Compute both sides of the scorecard for a branch subtree and run-date range.

    :param viewer: the logged-in user (data scope is enforced here).
    :param branch_id: subtree root, ``None`` for the viewer's default scope.
    :param start: first post run date, inclusive (Asia/Shanghai calendar date).
    :param end: last post run date, inclusive.
    :returns: a ``Scorecard`` with front-office rows per branch and staff, middle-office rows
        per template and SOP plan, totals and the daily series.
    :raises PermissionDenied: see ``resolve_branch``.
    :raises NotFound: see ``resolve_branch``.
    """
    branch = resolve_branch(viewer, branch_id)
    scope = Scope(path=branch.path if branch else None, start=start, end=end)
    front_total, middle_total = totals(scope)
    logger.debug("scorecard user_id=%s branch_id=%s %s..%s", viewer.id, branch_id, start, end)
    return Scorecard(
        branch_id=branch.id if branch else None,
        branch_name=branch.name if branch else "全行",
        start=start,
        end=end,
        front_by_branch=front_office_by_branch(scope),
        front_by_staff=front_office_by_staff(scope),
        front_total=front_total,
        middle_by_template=middle_office_by_template(scope),
        middle_by_sop=middle_office_by_sop(scope),
        middle_total=middle_total,
        daily=daily_series(scope),
    )
