"""SQL building blocks of the scorecard: scoped tasks, per-task event totals, measures.

Scope rules shared by every query:
- a task belongs to the branch of its staff member (``users.branch_id``); a branch
  subtree is ``branches.path LIKE '<path>%'``;
- a task belongs to the run date of its post (``posts.run_date``, Asia/Shanghai
  calendar date); events count towards the run date of their task's post, whenever
  they occurred; tasks of cancelled posts are left out;
- each event's ``quantity`` is summed (an aggregated report may carry several customers).

Events are first summed per task, then left-joined to tasks, so a task with many events
is never counted twice. Rates are computed in SQL as ``CAST(n AS FLOAT) / NULLIF(d, 0)``:
fractions 0..1, NULL (``None``) when the denominator is 0. Portable SQLite/PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Float, and_, case, cast, func, select

from app.broadcasts.models import Post, PostStatus, Task, TaskStatus
from app.content.models import TemplateVersion
from app.extensions import db
from app.interactions.models import InteractionEvent, InteractionKind
from app.org.models import Branch, User

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


def grouped_rows(scope: Scope, keys: list, joins, order_by) -> list[dict]:
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
