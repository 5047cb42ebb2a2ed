"""Web route for logging a customer reaction from the 今日任务 page."""

from __future__ import annotations

import logging

from flask import redirect, url_for
from flask_login import current_user

from app.auth.decorators import permission_required
from app.auth.permissions import Action
from app.core.flashes import flash_for_task, flash_form_errors_for_task
from app.interactions import bp
from app.interactions.forms import InteractionForm
from app.interactions.models import KIND_LABELS, InteractionKind
from app.interactions.services import CONFLICT, CREATED, DUPLICATE, record_events

logger = logging.getLogger(__name__)


def _form_item(form: InteractionForm, task_id: int) -> dict:
    item = {"event_id": form.event_id.data, "task_id": task_id, "kind": form.kind.data,
            "quantity": form.quantity.data}
    if form.amount_cny.data is not None:
        item["amount_cny"] = str(form.amount_cny.data)
    return item


@bp.post("/tasks/<int:task_id>/interactions")
@permission_required(Action.use_feed)
def log_for_task(task_id: int):
    """Record one event against the user's task through the same service as the API."""
    form = InteractionForm()
    if not form.validate_on_submit():
        flash_form_errors_for_task(task_id, form)
    else:
        [result] = record_events(current_user.id, [_form_item(form, task_id)])
        label = KIND_LABELS[InteractionKind(form.kind.data)]
        if result.status == CREATED:
            flash_for_task(task_id, f"已登记：{label} × {form.quantity.data}", "success")
        elif result.status == DUPLICATE:
            flash_for_task(task_id, "这条反馈已登记过，未重复计入", "info")
        elif result.status == CONFLICT:
            flash_for_task(task_id, "登记冲突，请刷新页面后重试", "error")
        else:
            flash_for_task(task_id, "；".join(result.errors.values()), "error")
    return redirect(url_for("feed.today", _anchor=f"task-{task_id}"))
