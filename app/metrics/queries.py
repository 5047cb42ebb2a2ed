"""The scorecard's SQL: one statement computes every table of a scorecard.

Scope rules shared by every query:
- a task belongs to the branch of its staff member (``users.branch_id``); a branch
  subtree is ``branches.path LIKE '<path>%'``;
- a task belongs to the run date of its post (``posts.run_date``, Asia/Shanghai
  calendar date); events count towards the run date of their task's post, whenever
  they occurred; tasks of cancelled posts are left out;
- each event's ``quantity`` is summed (an aggregated report may carry several customers).

Shape of the statement (portable across SQLite ≥ 3.35 and PostgreSQL ≥ 12)::

    WITH scoped_tasks AS (tasks ⋈ posts ⋈ template_versions ⋈ users [⋈ branches subtree]
                          WHERE run_date BETWEEN … AND post not cancelled),
         task_facts AS (scoped_tasks LEFT JOIN (events summed per task by kind))
    SELECT 'staff', … GROUP BY staff_id   UNION ALL
    SELECT 'branch', … GROUP BY branch_id UNION ALL … (template, sop, day, total)

Events are summed per task first, so a task with many events is never counted twice;
``task_facts`` is referenced by every part, so both databases materialise it once and
the events table is read once per scorecard. Rates are computed in SQL as
``CAST(n AS FLOAT) / NULLIF(d, 0)``: fractions 0..1, NULL (``None``) when the
denominator is 0.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from sqlalchemy import (
    Date,
    Float,
    Integer,
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import aliased

from app.broadcasts.models import Post, PostStatus, SopPlan, Task, TaskStatus
from app.connector.models import OutcomeKind, WeComOutcome, WeComTaskResult
from app.content.models import ContentTemplate, TemplateVersion
from app.core.extensions import db
from app.interactions.models import InteractionEvent, InteractionKind
from app.org.models import Branch, User
from app.org.services import path_ids, subtree_pattern

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


def _scoped_tasks(whole_bank: bool):
    """CTE of the tasks in scope, one row per task with 0/1 flags and reach.

    The scope is bound parameters: ``scope_start`` and ``scope_end`` (run dates), and
    ``scope_path_like`` (a :func:`~app.org.services.subtree_pattern`) unless ``whole_bank``.
    """
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
            case((WeComTaskResult.id.is_not(None), 1), else_=0).label("is_measured"),
        )
        .join(Post, Task.post_id == Post.id)
        .outerjoin(WeComTaskResult, WeComTaskResult.task_id == Task.id)
        .join(TemplateVersion, Post.template_version_id == TemplateVersion.id)
        .join(User, Task.staff_id == User.id)
        .where(Post.run_date.between(bindparam("scope_start", type_=Date),
                                     bindparam("scope_end", type_=Date)))
        .where(Post.status != PostStatus.cancelled)
    )
    if not whole_bank:
        stmt = stmt.join(Branch, User.branch_id == Branch.id).where(
            Branch.path.like(bindparam("scope_path_like", type_=String)))
    return stmt.cte("scoped_tasks")


_EVENT_SUMS = {
    "likes": (_K.like,),
    "comments": (_K.comment,),
    "inquiries": (_K.inquiry,),
    "replies": (_K.reply,),
    "blocks": (_K.block,),
    "deletes": (_K.delete,),
    "conversions": (_K.conversion,),
}
_O = OutcomeKind
#: Outcomes WeCom measures (``wecom_outcomes``), summed per task like the reported events.
_MEASURED_SUMS = {"m_likes": _O.like, "m_comments": _O.comment, "m_deletes": _O.delete}
#: Parts of a scorecard, in the order they are computed and returned.
PARTS = ("branch", "staff", "template", "sop", "day", "total")


def _task_facts(tasks):
    """CTE: one row per scoped task with its flags, reach and summed outcomes.

    Measured figures win (README "Metric definitions"): on a task WeCom measured
    (``is_measured``), likes and comments are WeCom's; deletions WeCom saw replace the
    reported ones; everything WeCom cannot see (inquiries, replies, blocks, conversions)
    stays as reported.
    """
    events = (
        select(
            InteractionEvent.task_id,
            *[_sum_of(kinds).label(name) for name, kinds in _EVENT_SUMS.items()],
            _sum_of((_K.conversion,), func.coalesce(InteractionEvent.amount_cny, 0)).label(
                "conversion_amount_cny"
            ),
        )
        .join(tasks, tasks.c.task_id == InteractionEvent.task_id)
        .group_by(InteractionEvent.task_id)
        .subquery("event_totals")
    )
    measured = (
        select(WeComOutcome.task_id, *[
            func.sum(case((WeComOutcome.kind == kind, 1), else_=0)).label(name)
            for name, kind in _MEASURED_SUMS.items()])
        .join(tasks, tasks.c.task_id == WeComOutcome.task_id)
        .group_by(WeComOutcome.task_id)
        .subquery("measured_totals")
    )

    def reported(name):
        return func.coalesce(events.c[name], 0)

    def wecom(name):
        return func.coalesce(measured.c[name], 0)

    is_measured = tasks.c.is_measured == 1
    kept = ("inquiries", "replies", "conversions", "conversion_amount_cny")
    return (
        select(
            tasks, *[reported(name).label(name) for name in kept],
            case((is_measured, wecom("m_likes")), else_=reported("likes")).label("likes"),
            case((is_measured, wecom("m_comments")), else_=reported("comments")).label(
                "comments"),
            (reported("blocks") + case((is_measured | (wecom("m_deletes") > 0),
                                        wecom("m_deletes")), else_=reported("deletes"))
             ).label("blocks_deletes"),
        )
        .select_from(tasks.outerjoin(events, events.c.task_id == tasks.c.task_id)
                     .outerjoin(measured, measured.c.task_id == tasks.c.task_id))
        .cte("task_facts")
    )


def _measures(facts) -> list:
    """Aggregate output columns over ``task_facts`` rows: counts, sums and rates."""

    def total(name):
        return func.coalesce(func.sum(facts.c[name]), 0)

    assigned, done, on_time = func.count(facts.c.task_id), total("is_done"), total("is_on_time")
    reach, likes, comments = total("reach"), total("likes"), total("comments")
    inquiries, blocks, conversions = total("inquiries"), total("blocks_deletes"), total(
        "conversions")
    return [
        assigned.label("tasks_assigned"),
        done.label("tasks_done"),
        on_time.label("tasks_on_time"),
        _ratio(done, assigned).label("execution_rate"),
        _ratio(on_time, assigned).label("on_time_rate"),
        total("replies").label("replies"),
        reach.label("reach"),
        func.count(facts.c.post_id.distinct()).label("posts"),
        likes.label("likes"),
        comments.label("comments"),
        inquiries.label("inquiries"),
        _ratio(likes + comments + inquiries, reach).label("engagement_rate"),
        _ratio(inquiries, reach).label("inquiry_rate"),
        blocks.label("blocks_deletes"),
        _ratio(blocks, reach).label("block_delete_rate"),
        conversions.label("conversions"),
        total("conversion_amount_cny").label("conversion_amount_cny"),
        _ratio(conversions, reach).label("conversion_rate"),
        total("is_measured").label("measured_tasks"),
    ]


def _text(value: str):
    """A constant string column (only for our own fixed labels, never for user input)."""
    return cast(literal_column(f"'{value}'"), String)


def _part_columns(facts, part: str, author) -> tuple:
    """(key, run_date, label, detail, username, sort_key) expressions of one part."""
    none_int, none_date, empty = cast(null(), Integer), cast(null(), Date), _text("")
    return {
        "staff": (facts.c.staff_id, none_date, User.display_name, Branch.name, User.username,
                  User.display_name),
        "branch": (facts.c.branch_id, none_date, Branch.name, Branch.code, empty, Branch.path),
        "template": (facts.c.template_id, none_date, ContentTemplate.title, author.display_name,
                     empty, ContentTemplate.title),
        "sop": (facts.c.sop_plan_id, none_date, SopPlan.name, ContentTemplate.title, empty,
                SopPlan.name),
        "day": (none_int, facts.c.run_date, empty, empty, empty, empty),
        "total": (none_int, none_date, _text("合计"), empty, empty, empty),
    }[part]


def _join_labels(stmt, part: str, key, author):
    """Join the tables that name the key of ``part`` (no join for ``day`` and ``total``)."""
    if part == "staff":
        return stmt.join(User, User.id == key).join(Branch, Branch.id == User.branch_id)
    if part == "branch":
        return stmt.join(Branch, Branch.id == key)
    if part == "template":
        return stmt.join(ContentTemplate, ContentTemplate.id == key).join(
            author, author.id == ContentTemplate.author_id)
    if part == "sop":
        return stmt.join(SopPlan, SopPlan.id == key).join(
            ContentTemplate, ContentTemplate.id == SopPlan.template_id)
    return stmt


def _part(facts, part: str):
    """SELECT of one part: part name, key, run_date, label, detail, username, sort_key, measures.

    Every part has the same columns in the same order, so the parts can be UNION ALL-ed.
    """
    author = aliased(User)
    key, run_date, label, detail, username, sort_key = _part_columns(facts, part, author)
    stmt = select(
        _text(part).label("part"), key.label("key"), run_date.label("run_date"),
        label.label("label"), detail.label("detail"), username.label("username"),
        sort_key.label("sort_key"), *_measures(facts),
    ).select_from(facts)
    stmt = _join_labels(stmt, part, key, author)
    if part == "day":
        return stmt.group_by(run_date)
    if part == "total":
        return stmt
    return stmt.group_by(key, label, detail, username, sort_key)


@functools.lru_cache(maxsize=32)
def _statement_template(whole_bank: bool, parts: tuple[str, ...]):
    """The scorecard statement with the scope as bound parameters (see :func:`_scope_params`).

    Built once per shape and kept: building it took 30 ms or more, a fifth of a scorecard
    page. A statement holds no rows, so threads share it, and SQLAlchemy reuses its
    memoized cache key and compiled form.
    """
    facts = _task_facts(_scoped_tasks(whole_bank))
    selects = [_part(facts, part) for part in parts]
    stmt = union_all(*selects) if len(selects) > 1 else selects[0]
    return stmt.order_by(literal_column("part"), literal_column("run_date"),
                         literal_column("sort_key"), literal_column("key"))


def _scope_params(scope: Scope) -> dict:
    """Values of the template's parameters for ``scope``.

    :raises ValueError: ``scope.path`` is not a branch path.
    """
    values = {"scope_start": scope.start, "scope_end": scope.end}
    if scope.path is not None:
        values["scope_path_like"] = subtree_pattern(scope.path)
    return values


def scorecard_statement(scope: Scope, parts: tuple[str, ...] = PARTS):
    """The one SELECT of a scorecard (see the module docstring), values bound; EXPLAINed in tests.

    :param scope: subtree and run-date range.
    :param parts: which of ``PARTS`` to compute.
    :returns: a SQLAlchemy ``Select``/``CompoundSelect`` ordered by part, run date, sort key.
    """
    return _statement_template(scope.path is None, parts).params(**_scope_params(scope))


def scorecard_rows(scope: Scope, parts: tuple[str, ...] = PARTS) -> dict[str, list[dict]]:
    """Run the scorecard statement (one round trip) and return its rows by part.

    :param scope: subtree and run-date range.
    :param parts: which of ``PARTS`` to compute: ``branch``, ``staff``, ``template``,
        ``sop`` (one row per key with tasks in scope), ``day`` (one row per run date),
        ``total`` (exactly one row, counts 0 and rates ``None`` when nothing is in scope).
    :returns: ``{part: [row dict]}``; each row has ``key``, ``run_date``, ``label``,
        ``detail``, ``username``, ``sort_key`` and every measure of ``_measures``;
        rows ordered by run date, then ``sort_key`` (name; branches depth-first, siblings by
        id, see ``app.org.services.path_ids``), then key.
    """
    result: dict[str, list[dict]] = {part: [] for part in parts}
    template = _statement_template(scope.path is None, parts)
    for row in db.session.execute(template, _scope_params(scope)).mappings():
        result[row["part"]].append(dict(row))
    if "branch" in result:  # the path as text puts /1/10/ before /1/9/
        result["branch"].sort(key=lambda row: path_ids(row["sort_key"]))
    return result
