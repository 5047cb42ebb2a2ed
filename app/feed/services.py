"""Front-office 前台 rules: a staff member's tasks for a day, and marking a task done.

Every function takes the acting staff member's id and only ever reads or changes
that member's own tasks; someone else's task is reported as not found.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import joinedload

from app.broadcasts.models import Post, PostStatus, SopPlan, Task, TaskStatus
from app.content.models import CHANNEL_LABELS, Channel
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.extensions import db
from app.core.locks import lock_rows
from app.interactions import services as interactions
from app.market.models import ChartImage
from app.org.models import User

logger = logging.getLogger(__name__)

#: Open tasks of posts up to this many days before the requested day are listed as overdue.
OVERDUE_LOOKBACK_DAYS = 7
#: Upper bound of a reported reach (WeCom caps a staff member's contacts far below this).
MAX_REACH_COUNT = 1_000_000


@dataclass(frozen=True)
class TaskItem:
    """One task as the front-line page and the API show it.

    ``due_at`` and ``completed_at`` are aware UTC; ``chart_url`` is a site-relative
    path (``/charts/<run_date>/<spec>.png``) or ``None`` for a post without a chart;
    ``overdue`` is true for a still-open task whose post ran before the requested day;
    ``text`` is the text to send, the personal ``note`` 附言 included (``app.feed.notes``).
    """

    id: int
    post_id: int
    run_date: dt.date
    sop: str
    channel: Channel
    text: str
    chart_url: str | None
    status: TaskStatus
    due_at: dt.datetime
    completed_at: dt.datetime | None
    reach_count: int | None
    overdue: bool
    note: str | None = None

    @property
    def channel_label(self) -> str:
        """Chinese name of the WeCom channel (群发 / 朋友圈 / 客户群)."""
        return CHANNEL_LABELS[self.channel]

    @property
    def is_done(self) -> bool:
        """Whether the staff member has marked the task done."""
        return self.status is TaskStatus.done


def chart_url(chart: ChartImage | None) -> str | None:
    """Site-relative URL of a rendered chart.

    :param chart: the post's ``ChartImage`` row, or ``None``.
    :returns: ``/charts/<YYYY-MM-DD>/<spec_name>.png`` (served by the market package), or ``None``.
    """
    if chart is None:
        return None
    return f"/charts/{chart.run_date.isoformat()}/{chart.spec_name}.png"


def task_item(task: Task, day: dt.date) -> TaskItem:
    """Build the display record of ``task`` as seen on business date ``day``.

    :param task: a task with its post, SOP plan, template and chart loadable.
    :param day: the business date (Asia/Shanghai) the caller is looking at.
    :returns: a ``TaskItem``; ``overdue`` when open and its post ran before ``day``.
    """
    post = task.post
    return TaskItem(
        id=task.id,
        post_id=post.id,
        run_date=post.run_date,
        sop=post.sop_plan.name,
        channel=post.sop_plan.channel,
        text=task.text,
        chart_url=chart_url(post.chart_image),
        status=task.status,
        due_at=task.due_at,
        completed_at=task.completed_at,
        reach_count=task.reach_count,
        overdue=task.status is TaskStatus.assigned and post.run_date < day,
        note=task.note,
    )


def _task_query():
    return select(Task).join(Task.post).options(
        joinedload(Task.post).joinedload(Post.sop_plan).joinedload(SopPlan.template),
        joinedload(Task.post).joinedload(Post.chart_image),
        joinedload(Task.post_text), joinedload(Task.staff).joinedload(User.branch),
    )


def tasks_for_day(staff_id: int, day: dt.date) -> list[TaskItem]:
    """List a staff member's tasks for ``day``, then their overdue open tasks.

    :param staff_id: the front-line user's id; only their own tasks are returned.
    :param day: business date (Asia/Shanghai), matched against ``posts.run_date``.
    :returns: tasks of published posts run on ``day`` ordered by due time, followed by
        still-open tasks of the previous ``OVERDUE_LOOKBACK_DAYS`` days (``overdue=True``),
        newest first. Cancelled posts are left out.
    """
    since = day - dt.timedelta(days=OVERDUE_LOOKBACK_DAYS)
    stmt = _task_query().where(
        Task.staff_id == staff_id,
        Post.status == PostStatus.published,
        or_(
            Post.run_date == day,
            and_(Post.run_date >= since, Post.run_date < day, Task.status == TaskStatus.assigned),
        ),
    ).order_by(Post.run_date.desc(), Task.due_at, Task.id)
    return [task_item(task, day) for task in db.session.scalars(stmt).unique()]


def get_own_task(task_id: int, staff_id: int) -> Task:
    """Load a task that belongs to ``staff_id``.

    :raises NotFound: if the task does not exist or belongs to someone else
        (the two cases are indistinguishable to the caller).
    """
    task = db.session.scalars(
        _task_query().where(Task.id == task_id, Task.staff_id == staff_id)
    ).unique().one_or_none()
    if task is None:
        raise NotFound("任务不存在")
    return task


def _check_reach_count(reach_count: int | None) -> None:
    if reach_count is None:
        return
    if isinstance(reach_count, bool) or not isinstance(reach_count, int):
        raise ValidationFailed("发送人数无效", {"reach_count": "发送人数须为整数"})
    if reach_count < 0:
        raise ValidationFailed("发送人数无效", {"reach_count": "发送人数不能为负数"})
    if reach_count > MAX_REACH_COUNT:
        raise ValidationFailed(
            "发送人数无效", {"reach_count": f"发送人数不能超过 {MAX_REACH_COUNT}"}
        )


def complete_task(
    task_id: int, staff_id: int, reach_count: int | None, completed_at: dt.datetime
) -> Task:
    """Mark the staff member's task done; on a done task, correct its reach 发送人数.

    The first completion is one conditional ``UPDATE ... WHERE status = 'assigned'``, so two
    concurrent completions keep the first one's time and reach. Completing a done task
    again with another ``reach_count`` corrects the reach (``completed_at`` unchanged);
    again with the same reach or none changes nothing, so retries are idempotent.

    :param task_id: the task to complete.
    :param staff_id: the acting front-line user; must own the task.
    :param reach_count: customers the post was sent to (>= 0), or ``None`` if not reported.
    :param completed_at: aware instant of completion (stored as UTC).
    :returns: the task, ``status=done``, with the first completion's ``completed_at``.
    :raises NotFound: unknown task or another user's task.
    :raises ValidationFailed: ``reach_count`` negative, not an integer or implausibly large,
        or (a correction) below what the events already logged require.
    :raises Conflict: the task's post has been withdrawn (cancelled).
    """
    if completed_at.tzinfo is None:
        raise ValueError("completed_at must be timezone-aware")
    _check_reach_count(reach_count)
    task = get_own_task(task_id, staff_id)
    if task.status is TaskStatus.done:
        if reach_count is not None and reach_count != task.reach_count:
            _correct_reach(task, reach_count)
        return task
    if task.post.status is not PostStatus.published:
        raise Conflict("该内容已撤回，无需执行")
    result = db.session.execute(
        update(Task)
        .where(Task.id == task_id, Task.staff_id == staff_id, Task.status == TaskStatus.assigned)
        .values(status=TaskStatus.done, completed_at=completed_at, reach_count=reach_count)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(task)
    if result.rowcount:
        logger.info("task completed task_id=%s staff_id=%s reach=%s", task_id, staff_id,
                    reach_count)
    return task


def correct_reach_count(task_id: int, staff_id: int, reach_count: int) -> Task:
    """Correct the reach 发送人数 of the staff member's done task (``completed_at`` unchanged).

    :param task_id: the task; must be done.
    :param staff_id: the acting front-line user; must own the task.
    :param reach_count: customers the post was sent to (>= 0).
    :returns: the task with the new reach.
    :raises NotFound: unknown task or another user's task.
    :raises Conflict: the task is not done yet (complete it instead).
    :raises ValidationFailed: bad ``reach_count``, or below what logged events require.
    """
    if reach_count is None:
        raise ValidationFailed("发送人数无效", {"reach_count": "请填写发送人数"})
    _check_reach_count(reach_count)
    task = get_own_task(task_id, staff_id)
    if task.status is not TaskStatus.done:
        raise Conflict("任务尚未完成，请先标记完成")
    if reach_count != task.reach_count:
        _correct_reach(task, reach_count)
    return task


def _correct_reach(task: Task, reach_count: int) -> None:
    """Set a done task's reach, never below what its logged events need (row locked)."""
    lock_rows(db.session, Task, Task.id == task.id)
    needed = interactions.reach_needed(task.id)
    if reach_count < needed:
        raise ValidationFailed("发送人数不能少于已登记的客户反馈", {
            "reach_count": f"已登记的客户反馈要求发送人数至少为 {needed}"})
    previous = task.reach_count
    task.reach_count = reach_count
    db.session.flush()
    logger.info("task reach corrected task_id=%s staff_id=%s reach=%s->%s", task.id,
                task.staff_id, previous, reach_count)
