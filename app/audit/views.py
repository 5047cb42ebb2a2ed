"""审计日志 pages: browse with filters, export XLSX (managers and admins)."""

from flask import Response, render_template, request
from flask_login import current_user

from app.audit import bp
from app.audit.forms import AuditFilterForm
from app.audit.labels import ACTION_LABELS, FIELD_LABELS, LEVEL_LABELS, OBJECT_LABELS
from app.audit.services import AuditFilter, export_xlsx, list_events
from app.auth.decorators import permission_required
from app.auth.permissions import Action, scope
from app.core.clock import business_today
from app.core.spreadsheet import attachment_disposition
from app.org.models import ROLE_LABELS

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _filters(form: AuditFilterForm) -> AuditFilter:
    if not form.validate():
        return AuditFilter()
    return AuditFilter(action=form.action.data or None, object_type=form.object_type.data or None,
                       object_id=form.object_id.data, actor_id=form.actor_id.data,
                       from_date=form.from_date.data, to_date=form.to_date.data)


@bp.context_processor
def audit_labels() -> dict:
    """Labels to show audited values in Chinese (shared with the admin pages' macro)."""
    return {"field_labels": FIELD_LABELS,
            "role_labels": {role.value: label for role, label in ROLE_LABELS.items()},
            "level_labels": LEVEL_LABELS}


@bp.get("/")
@permission_required(Action.read_audit)
def index():
    """Events newest first, 50 per page, filtered by action, object, actor and dates."""
    form = AuditFilterForm(request.args)
    page = list_events(_filters(form), scope(current_user), request.args.get("page", 1, int))
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("audit/index.html", form=form, page=page, args=args,
                           action_labels=ACTION_LABELS, object_labels=OBJECT_LABELS)


@bp.get("/export.xlsx")
@permission_required(Action.export_audit)
def export():
    """The filtered events as XLSX (formula-like text neutralised)."""
    form = AuditFilterForm(request.args)
    data = export_xlsx(_filters(form), scope(current_user))
    name = f"审计日志-{business_today().isoformat()}.xlsx"
    return Response(data, mimetype=XLSX, headers={
        "Content-Disposition": attachment_disposition(name, f"audit-{business_today()}.xlsx")})
