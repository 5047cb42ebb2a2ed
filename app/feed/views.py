"""Front-line pages: 今日任务 (phone-sized), mark done, and the API token page."""

from __future__ import annotations

import logging
import uuid
from zoneinfo import ZoneInfo

from flask import current_app, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from app.auth.decorators import permission_required
from app.auth.permissions import Action
from app.auth.services import issue_api_token
from app.broadcasts.models import NOTE_MAX_CHARS
from app.core.clock import business_now, business_today
from app.core.errors import Conflict, ValidationFailed
from app.core.flashes import (
    flash_for_task,
    flash_form_errors_for_task,
    page_messages,
    task_messages,
)
from app.core.unit_of_work import discard_changes
from app.feed import bp, notes, services
from app.feed.forms import CompleteTaskForm, IssueTokenForm, NoteForm, ReachCorrectionForm
from app.interactions.forms import KIND_CHOICES
from app.interactions.models import KIND_LABELS
from app.interactions.services import counts_by_task

logger = logging.getLogger(__name__)


bp.add_app_template_global(page_messages)
bp.add_app_template_global(task_messages)


@bp.get("/today")
@permission_required(Action.use_feed)
def today():
    """今日任务: the user's tasks for the business date, then overdue open ones."""
    day = business_today()
    items = services.tasks_for_day(current_user.id, day)
    return render_template(
        "feed/today.html", day=day, items=items,
        counts=counts_by_task([item.id for item in items]),
        tz=ZoneInfo(current_app.config["TIMEZONE"]),
        kind_choices=KIND_CHOICES, kind_labels=KIND_LABELS,
        new_event_id=lambda: uuid.uuid4().hex, note_max_chars=NOTE_MAX_CHARS,
    )


@bp.post("/today/tasks/<int:task_id>/complete")
@permission_required(Action.use_feed)
def complete(task_id: int):
    """Mark one of the user's tasks done (form with optional 发送人数)."""
    form = CompleteTaskForm()
    if not form.validate_on_submit():
        flash_form_errors_for_task(task_id, form)
    else:
        services.complete_task(task_id, current_user.id, form.reach_count.data, business_now())
        flash_for_task(task_id, "已标记完成", "success")
    return redirect(url_for("feed.today", _anchor=f"task-{task_id}"))


@bp.post("/today/tasks/<int:task_id>/note")
@permission_required(Action.use_feed)
def set_note(task_id: int):
    """Save (or remove, when empty) the personal note 附言 of one of the user's open tasks."""
    form = NoteForm()
    if not form.validate_on_submit():
        flash_form_errors_for_task(task_id, form)
        return redirect(url_for("feed.today", _anchor=f"task-{task_id}"))
    try:
        task, findings = notes.set_note(task_id, current_user.id, form.note.data)
    except (ValidationFailed, Conflict) as error:
        _flash_refusal(task_id, error, with_summary=True)
    else:
        flash_for_task(task_id, "附言已保存" if task.note else "附言已删除", "success")
        for finding in findings:
            flash_for_task(task_id, f"合规提示 {finding.rule_id}：{finding.message}", "info")
    return redirect(url_for("feed.today", _anchor=f"task-{task_id}"))


@bp.route("/account/api-token", methods=["GET", "POST"])
@permission_required(Action.use_feed)
def api_token():
    """Explain the API and (re)issue the user's bearer token, shown once."""
    form = IssueTokenForm()
    token = None
    if form.validate_on_submit():
        token = issue_api_token(current_user._get_current_object())
        logger.info("api token issued user_id=%s", current_user.id)
    response = make_response(render_template(
        "feed/api_token.html", form=form, token=token,
        has_token=current_user.api_token_sha256 is not None,
        base_url=request.url_root.rstrip("/"), kind_labels=KIND_LABELS,
    ))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/today/tasks/<int:task_id>/reach")
@permission_required(Action.use_feed)
def correct_reach(task_id: int):
    """Correct 发送人数 of one of the user's done tasks; refusals show on the task's card."""
    form = ReachCorrectionForm()
    if not form.validate_on_submit():
        flash_form_errors_for_task(task_id, form)
        return redirect(url_for("feed.today", _anchor=f"task-{task_id}"))
    try:
        task = services.correct_reach_count(task_id, current_user.id, form.reach_count.data)
    except (ValidationFailed, Conflict) as error:
        _flash_refusal(task_id, error)
    else:
        flash_for_task(task_id, f"发送人数已更正为 {task.reach_count} 人", "success")
    return redirect(url_for("feed.today", _anchor=f"task-{task_id}"))


def _flash_refusal(task_id: int, error: ValidationFailed | Conflict, *,
                   with_summary: bool = False) -> None:
    """Undo the request's changes and show why on the task's card (per-field messages)."""
    discard_changes()
    details = list(error.errors.values()) if isinstance(error.errors, dict) else []
    if with_summary or not details:
        details.insert(0, error.message)
    flash_for_task(task_id, "；".join(details), "error")
