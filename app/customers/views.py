"""Customers pages: coverage 覆盖率 for managers, drill-down to an RM, 我的客户 for RMs, imports."""

from __future__ import annotations

import logging

from flask import Response, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app.auth.decorators import permission_required
from app.auth.permissions import Action, scope
from app.core.clock import business_today
from app.core.errors import ValidationFailed
from app.core.http import body_limit
from app.core.provinces import province_name
from app.customers import bp, uploads
from app.customers import services as customers
from app.customers.charts import coverage_heatmap_png, coverage_trend_png
from app.customers.flags import FLAG_LABELS
from app.customers.forms import CoverageFilterForm, ImportConfirmForm, ImportUploadForm
from app.customers.validity import REASON_LABELS

logger = logging.getLogger(__name__)
LABELS = {"reasons": REASON_LABELS, "flags": FLAG_LABELS}


def _filters() -> tuple[CoverageFilterForm, int | None, object]:
    form = CoverageFilterForm(formdata=request.args)
    branches = customers.subtree_branches(None, scope(current_user))
    top = min((b.path.count("/") for b in branches), default=0)
    choices = [SelectChoice("", "全行")] if scope(current_user).is_whole_bank else []
    form.branch_id.choices = choices + [
        SelectChoice(str(b.id), "— " * (b.path.count("/") - top) + b.name) for b in branches]
    if not form.validate():
        raise ValidationFailed("筛选条件有误", form.errors)
    return form, form.branch_id.data, form.on.data or business_today()


@bp.route("/coverage")
@permission_required(Action.read_coverage)
def coverage():
    """Coverage by segment of a branch subtree: table, heat map, RM progress, valid adds."""
    form, branch_id, on = _filters()
    live = request.args.get("live") == "1"
    overview = customers.coverage_overview(current_user, branch_id, on, live)
    args = {k: v for k, v in request.args.items() if k in ("branch_id", "on", "live") and v}
    return render_template("customers/coverage.html", form=form, overview=overview, args=args,
                           heatmap_url=url_for("customers.coverage_heatmap", **args),
                           trend_url=url_for("customers.coverage_trend", **args),
                           labels=LABELS)


@bp.route("/coverage/heatmap.png")
@permission_required(Action.read_coverage)
def coverage_heatmap():
    """Sub-branch × segment coverage heat map as PNG (same filters as the page)."""
    _, branch_id, on = _filters()
    overview = customers.coverage_overview(current_user, branch_id, on,
                                           request.args.get("live") == "1")
    png = coverage_heatmap_png(f"{overview.branch_name} 覆盖率（{overview.as_of or on:%Y-%m-%d}）",
                               [(b.code, b.name) for b in overview.branches],
                               overview.segments, overview.cells)
    return _png(png)


def _png(data: bytes) -> Response:
    return Response(data, mimetype="image/png", headers={"Cache-Control": "private, max-age=60"})


@bp.route("/coverage/trend.png")
@permission_required(Action.read_coverage)
def coverage_trend():
    """Coverage rate per segment of the subtree over the last days (daily snapshots), PNG."""
    _, branch_id, on = _filters()
    trend = customers.subtree_trend(current_user, branch_id, on)
    return _png(coverage_trend_png(trend.title, trend.points, trend.segments))


@bp.route("/staff/<int:user_id>")
@permission_required(Action.read_coverage)
def staff(user_id: int):
    """One RM: coverage per segment and this month's adds with reasons, flags and evidence."""
    _, _, on = _filters()
    page = customers.staff_page(current_user, user_id, on)
    return render_template("customers/staff.html", page=page, labels=LABELS,
                           province_name=province_name)


@bp.route("/mine")
@permission_required(Action.use_customer_book)
def mine():
    """我的客户 (phone): my coverage, customers to follow up, my adds this month and why."""
    page = customers.my_book(current_user, business_today())
    return render_template("customers/mine.html", page=page, labels=LABELS)


@bp.route("/mine/trend.png")
@permission_required(Action.use_customer_book)
def my_trend():
    """My coverage rate per segment over the last days (daily snapshots), PNG."""
    trend = customers.my_trend(current_user, business_today())
    return _png(coverage_trend_png(trend.title, trend.points, trend.segments))


@bp.route("/imports", methods=["GET", "POST"])
@permission_required(Action.import_customers)
@body_limit("MAX_IMPORT_BYTES")
def imports():
    """Upload a customers, contacts or verifications file; then preview it."""
    form = ImportUploadForm()
    if form.validate_on_submit():
        job_id = uploads.save_upload(form.kind.data, form.file.data.filename or "upload",
                                     form.file.data.stream, current_user.id)
        return redirect(url_for("customers.import_preview", job_id=job_id))
    status = 422 if form.is_submitted() else 200
    return render_template("customers/imports.html", form=form,
                           jobs=uploads.jobs_of(current_user.id)), status


@bp.route("/imports/<int:job_id>")
@permission_required(Action.import_customers)
def import_preview(job_id: int):
    """The upload's first rows and errors, the confirm button, then progress and result."""
    job, preview, unreadable = uploads.preview(job_id)
    return render_template("customers/import_preview.html", job=job, preview=preview,
                           unreadable=unreadable, form=ImportConfirmForm(job_id=job_id))


@bp.route("/imports/confirm", methods=["POST"])
@permission_required(Action.import_customers)
def import_confirm():
    """Queue the import of a previewed upload (once) and show its progress."""
    form = ImportConfirmForm()
    if not form.validate_on_submit():
        return redirect(url_for("customers.imports"))
    job_id = int(form.job_id.data)
    queued = uploads.confirm(job_id)
    logger.info("import confirmed job_id=%s user_id=%s queued=%s", job_id, current_user.id,
                queued)
    return redirect(url_for("customers.import_preview", job_id=job_id))
