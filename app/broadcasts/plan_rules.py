"""What a plan must satisfy to be created or edited: fields, audience, seasonal templates.

:func:`check_plan` collects every problem as Chinese per-field messages (the form shows
them all at once); the services raise ``ValidationFailed`` with them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select

from app.broadcasts.audience import check_audience
from app.broadcasts.calendars import CALENDAR_LABELS
from app.broadcasts.models import SopPlan
from app.broadcasts.schedules import (
    Schedule,
    ScheduleError,
    check_timezone,
    parse_schedule,
    schedule_for,
)
from app.content.models import Channel, ContentTemplate, TemplateStatus
from app.core.extensions import db


@dataclass
class PlanInput:
    """The planning fields of a plan as plain values (create and edit take the same).

    ``send_time`` is wall-clock time in ``timezone``; ``schedule`` (optional) replaces
    ``calendar`` + ``send_time``; ``channel`` ``None`` = the template's channel;
    ``branch_ids`` in the editor's order (the first becomes ``sop_plans.branch_id``);
    ``segment_ids`` only for 群发.
    """

    name: str
    template_id: int
    branch_ids: list[int]
    send_time: dt.time
    calendar: str = "XSHG"
    timezone: str = "Asia/Shanghai"
    schedule: str | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    max_runs: int | None = None
    channel: Channel | None = None
    segment_ids: list[int] = field(default_factory=list)

    @property
    def expression(self) -> str:
        """The schedule expression this input plans (``schedule`` or calendar + send time)."""
        return self.schedule.strip() if self.schedule else schedule_for(self.calendar,
                                                                        self.send_time)


def check_plan(data: PlanInput, plan_id: int | None = None) -> tuple[dict[str, str],
                                                                      ContentTemplate | None]:
    """Every problem of ``data`` as per-field Chinese messages, and its template.

    :param plan_id: the plan being edited (its own row is no duplicate), ``None`` on create.
    :returns: (``{field: message}``, empty when valid; the approved template or ``None``).
    """
    errors: dict[str, str] = {}
    if not data.name.strip():
        errors["name"] = "请填写计划名称"
    if data.calendar not in CALENDAR_LABELS:
        errors["calendar"] = "未知的日历"
    try:
        check_timezone(data.timezone)
    except ScheduleError:
        errors["timezone"] = "未知的时区"
    template = db.session.get(ContentTemplate, data.template_id)
    # a newer version in review keeps the approved one running: the plan stays plannable
    if template is None or template.status is TemplateStatus.retired or (
            template.status is not TemplateStatus.approved
            and template.approved_version_id is None):
        errors["template_id"] = "只能选择已批准的模板"
        template = None
    schedule = None
    try:
        schedule = parse_schedule(data.expression)
    except ScheduleError as error:
        errors["schedule"] = str(error)
    if data.start_date and data.end_date and data.end_date < data.start_date:
        errors["end_date"] = "结束日期不能早于开始日期"
    if data.max_runs is not None and data.max_runs < 1:
        errors["max_runs"] = "运行次数上限至少为 1"
    channel = data.channel or (template.channel if template else Channel.moments_post)
    errors.update(check_audience(data.branch_ids, data.segment_ids, channel))
    if template is not None and schedule is not None:
        seasonal = seasonal_error(template, schedule, data.start_date, data.end_date)
        if seasonal:
            errors["schedule"] = seasonal
    send_time = schedule.time if schedule is not None and schedule.time else data.send_time
    duplicate = _active_duplicate(data, send_time, plan_id)
    if duplicate is not None:
        errors["plan"] = (f"已有运行中的计划「{duplicate.name}」使用同一模板、同一下发范围和"
                          f"同一发送时间 {send_time:%H:%M}，不能重复创建")
    return errors, template


def is_seasonal(template: ContentTemplate) -> bool:
    """A seasonal template 时令模板 (e.g. a holiday greeting) has a validity window."""
    return template.valid_from_date is not None or template.valid_until_date is not None


def seasonal_error(template: ContentTemplate, schedule: Schedule, start: dt.date | None,
                   end: dt.date | None) -> str | None:
    """Why a seasonal template cannot be planned so, or ``None`` when it can.

    A seasonal template is planned either ``once`` on a date inside its validity window,
    or with a start and an end date both inside the window.

    :returns: a Chinese message naming the window, or ``None``.
    """
    if not is_seasonal(template):
        return None
    if schedule.kind == "once":
        if template.is_valid_on(schedule.at.date()):
            return None
    elif start is not None and end is not None and template.is_valid_on(start) \
            and template.is_valid_on(end):
        return None
    window = f"{template.valid_from_date or '不限'} 至 {template.valid_until_date or '不限'}"
    return (f"「{template.title}」是时令模板，有效期 {window}：只能用 once 规则在有效期内"
            f"单次发送，或把开始日期和结束日期都设在有效期内")


def _active_duplicate(data: PlanInput, send_time: dt.time,
                      plan_id: int | None) -> SopPlan | None:
    """Another active plan sending the same template to the same first branch at that time."""
    if not data.branch_ids:
        return None
    query = select(SopPlan).where(
        SopPlan.template_id == data.template_id, SopPlan.branch_id == data.branch_ids[0],
        SopPlan.send_time == send_time, SopPlan.is_active.is_(True))
    if plan_id is not None:
        query = query.where(SopPlan.id != plan_id)
    return db.session.scalars(query.limit(1)).first()
