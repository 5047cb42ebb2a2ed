"""SOP plan pages and the daily tracking page 日跟踪."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from app.auth.decorators import permission_required
from app.auth.permissions import Action, can, require
from app.broadcasts import bp, revisions, runs
from app.broadcasts import plan_calendar as calendar_entries
from app.broadcasts import services as plans
from app.broadcasts.audience import audience_of, audiences
from app.broadcasts.calendars import CALENDAR_LABELS
from app.broadcasts.caps import planned_load
from app.broadcasts.forms import SopPlanForm, ToggleForm
from app.broadcasts.models import RunStatus, SopPlan
from app.broadcasts.plan_rules import PlanInput
from app.broadcasts.run_day import plan_run_dates
from app.content.models import CHANNEL_LABELS, Channel, ContentTemplate, TemplateStatus
from app.content.rehearsal import register_run_dates_provider
from app.core.clock import business_today
from app.core.errors import Conflict, ValidationFailed
from app.core.extensions import db
from app.core.unit_of_work import discard_changes
from app.customers.models import Segment
from app.org.models import Branch
from app.org.services import tree_order


@bp.record_once
def _provide_run_dates(state) -> None:
    """Content approval renders a version for the run dates of the plans that send it."""
    register_run_dates_provider(state.app, plan_run_dates)


@bp.app_template_global("active_plan_count")
def active_plan_count(template_id: int) -> int:
    """Template global for the content pages: active SOP plans sending ``template_id``."""
    return plans.active_plan_count(template_id)


DEFAULT_TIMEZONE = "Asia/Shanghai"


def _plan_form(plan: SopPlan | None = None) -> SopPlanForm:
    form = SopPlanForm(obj=_form_values(plan) if plan is not None else None)
    form.template_id.choices = [
        SelectChoice(t.id, t.title) for t in db.session.scalars(
            select(ContentTemplate).where(ContentTemplate.status == TemplateStatus.approved)
            .order_by(ContentTemplate.title))
    ]
    form.branch_ids.choices = [
        SelectChoice(b.id, b.name) for b in tree_order(db.session.scalars(select(Branch)))
    ]
    form.segment_ids.choices = [
        SelectChoice(s.id, s.name) for s in db.session.scalars(
            select(Segment).order_by(Segment.position, Segment.id))
    ]
    return form


def _form_values(plan: SopPlan) -> SimpleNamespace:
    """The plan's fields as the form's initial values (edit page)."""
    audience = audience_of(plan)
    return SimpleNamespace(
        name=plan.name, template_id=plan.template_id, channel=plan.channel.value,
        branch_ids=audience.branch_ids, segment_ids=audience.segment_ids,
        send_time=plan.send_time, calendar=plan.calendar, schedule=plan.schedule,
        timezone="" if plan.timezone == DEFAULT_TIMEZONE else plan.timezone,
        start_date=plan.start_date, end_date=plan.end_date, max_runs=plan.max_runs)


def _input(form: SopPlanForm) -> PlanInput:
    return PlanInput(
        name=form.name.data, template_id=form.template_id.data,
        branch_ids=list(form.branch_ids.data or []), send_time=form.send_time.data,
        calendar=form.calendar.data,
        timezone=(form.timezone.data or "").strip() or DEFAULT_TIMEZONE,
        schedule=form.schedule.data, start_date=form.start_date.data,
        end_date=form.end_date.data, max_runs=form.max_runs.data,
        channel=Channel(form.channel.data) if form.channel.data else None,
        segment_ids=list(form.segment_ids.data or []))


def _save(form: SopPlanForm, save) -> tuple[SopPlan | None, PlanInput | None]:
    """Validate the form and call ``save(PlanInput)``; flash the refusal's messages.

    :returns: (the saved plan or ``None``, the submitted input or ``None``).
    """
    if not form.validate_on_submit():
        return None, None
    data = _input(form)
    try:
        return save(data), data
    except ValidationFailed as error:
        discard_changes()
        for message in (error.errors or {}).values():
            flash(message, "error")
        return None, data


@permission_required(Action.read_plans)
def plans_page():
    """List SOP plans; editors create new ones (a POST without ``manage_plans`` is 403)."""
    if request.method == "POST":
        require(current_user, Action.manage_plans)
    form = _plan_form() if can(current_user, Action.manage_plans) else None
    submitted = None
    if form is not None:
        plan, submitted = _save(form, lambda data: plans.create_plan(current_user, data))
        if plan is not None:
            flash(f"已创建 SOP 计划「{plan.name}」", "success")
            return redirect(url_for("broadcasts.plans"))
    listed = plans.list_plans(current_user)
    return render_template("broadcasts/plans.html", plans=listed, form=form,
                           toggle=ToggleForm(), calendars=CALENDAR_LABELS,
                           audiences=audiences([p.id for p in listed]),
                           channel_labels=CHANNEL_LABELS, submitted=submitted is not None,
                           load=planned_load(submitted) if form is not None else [])


bp.add_url_rule("/plans", endpoint="plans", view_func=plans_page, methods=["GET", "POST"])


@bp.route("/plans/<int:plan_id>", methods=["GET", "POST"])
@permission_required(Action.read_plans)
def plan(plan_id: int):
    """One plan: its fields, revision history and recent runs; editors edit it (new revision)."""
    if request.method == "POST":
        require(current_user, Action.manage_plans)
    shown = plans.get_plan(current_user, plan_id)
    form = (_plan_form(shown) if can(current_user, Action.manage_plans)
            and shown.archived_at is None else None)
    submitted = None
    if form is not None:
        edited, submitted = _save(form, lambda data: plans.edit_plan(current_user, plan_id, data))
        if edited is not None:
            flash(f"已保存「{edited.name}」，当前为第 {edited.revision} 版", "success")
            return redirect(url_for("broadcasts.plan", plan_id=plan_id))
    return render_template("broadcasts/plan.html", plan=shown, form=form, toggle=ToggleForm(),
                           audience=audience_of(shown), revisions=revisions.history(plan_id),
                           changed_labels=revisions.changed_labels,
                           recent_runs=runs.recent_runs(plan_id), channel_labels=CHANNEL_LABELS,
                           submitted=submitted is not None,
                           load=planned_load(submitted, plan_id) if form else [])


def _back(plan_id: int) -> str:
    """Where a plan button returns: the plan page when pressed there, else the list."""
    if request.form.get("back") == "plan":
        return url_for("broadcasts.plan", plan_id=plan_id)
    return url_for("broadcasts.plans")


@bp.route("/plans/<int:plan_id>/toggle", methods=["POST"])
@permission_required(Action.manage_plans)
def toggle_plan(plan_id: int):
    """Pause or resume a plan."""
    form = ToggleForm()
    if form.validate_on_submit():
        try:
            updated = plans.toggle_plan(current_user, plan_id)
        except ValidationFailed as error:
            discard_changes()
            for message in (error.errors or {}).values():
                flash(message, "error")
        else:
            flash(f"「{updated.name}」已{'启用' if updated.is_active else '暂停'}", "success")
    return redirect(_back(plan_id))


@bp.route("/plans/<int:plan_id>/archive", methods=["POST"])
@permission_required(Action.manage_plans)
def archive_plan(plan_id: int):
    """Archive a plan: it stops and stays listed as 已归档."""
    form = ToggleForm()
    if form.validate_on_submit():
        archived = plans.archive_plan(current_user, plan_id)
        flash(f"「{archived.name}」已归档，待运行的计划运行将被取消", "success")
    return redirect(_back(plan_id))


@bp.route("/plans/calendar")
@permission_required(Action.read_plans)
def plan_calendar():
    """计划日历: the past week's runs with their status and the coming three weeks."""
    today = business_today()
    days = calendar_entries.plan_calendar(current_user, today - dt.timedelta(days=7), 28, today)
    return render_template("broadcasts/calendar.html", days=days, today=today)


@bp.route("/tracking")
@permission_required(Action.read_tracking)
def tracking():
    """Daily tracking 日跟踪: each post of a date with its execution progress."""
    raw = request.args.get("date", "").strip()
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        day = business_today()
        if raw:
            flash(f"日期格式无效，已显示 {day.isoformat()}（日期格式应为 YYYY-MM-DD）", "error")
    return render_template("broadcasts/tracking.html", day=day,
                           rows=plans.posts_on(current_user, day),
                           pending=plans.pending_staff_on(current_user, day),
                           plan_runs=runs.runs_on_date(current_user, day),
                           rerunnable={RunStatus.skipped, RunStatus.failed},
                           rerun_form=ToggleForm(),
                           can_withdraw=can(current_user, Action.withdraw_posts))


@bp.route("/runs/<int:run_id>/rerun", methods=["POST"])
@permission_required(Action.manage_plans)
def rerun(run_id: int):
    """Queue a skipped or failed plan run again; the scheduler's next tick runs it."""
    form = ToggleForm()
    day = request.form.get("date", "")
    if form.validate_on_submit():
        try:
            run = runs.rerun(current_user, run_id)
        except Conflict as error:
            discard_changes()
            flash(error.message, "error")
        else:
            flash(f"已重新排队「{run.sop_plan.name}」，调度器下一分钟内运行", "success")
    return redirect(url_for("broadcasts.tracking", date=day or None))
