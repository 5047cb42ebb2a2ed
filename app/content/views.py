"""Content-template pages: list, create, edit, preview, review (four-eyes), history.

Editors create, edit and submit; reviewers approve or reject (never their own version).
Who may do what is ``app.auth.permissions``; front-line staff and managers get 403 here.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import SelectChoice

from app.auth.decorators import permission_required
from app.auth.permissions import Action, can
from app.compliance import citation_legend
from app.content import bp, queries, services
from app.content.forms import (
    ActionForm,
    BodyForm,
    NewTemplateForm,
    PreviewForm,
    ReviewForm,
    change_wordings,
)
from app.content.models import (
    CHANNEL_LABELS,
    CONTENT_KIND_LABELS,
    PRODUCT_LABELS,
    STATUS_LABELS,
    TemplateStatus,
)
from app.content.presenters import (
    body_diff,
    chart_titles,
    comparison_base,
    finding_counts,
    highlight,
    series_label,
    wordings,
)
from app.core.errors import Conflict, PermissionDenied, ValidationFailed
from app.core.unit_of_work import discard_changes


@bp.context_processor
def inject_legend():
    """The legend of citation codes (editor page)."""
    return {"citation_legend": citation_legend()}


@bp.app_context_processor
def inject_labels():
    """Chinese labels for statuses, products and channels in content pages."""
    return {"STATUS_LABELS": STATUS_LABELS, "PRODUCT_LABELS": PRODUCT_LABELS,
            "CHANNEL_LABELS": CHANNEL_LABELS, "CONTENT_KIND_LABELS": CONTENT_KIND_LABELS,
            "finding_counts": finding_counts, "series_label": series_label,
            "chart_title": lambda name: chart_titles().get(name, name) if name else "无"}


@bp.route("/")
@permission_required(Action.read_content)
def index():
    """All templates with status, product, channel, last edit and findings count."""
    status = TemplateStatus.__members__.get(request.args.get("status", ""))
    return render_template("content/index.html", templates=queries.list_templates(status),
                           status=status, can_create=can(current_user, Action.write_content),
                           chart_titles=chart_titles())


@bp.route("/new", methods=["GET", "POST"])
@permission_required(Action.write_content)
def new():
    """Create a template (version 1 is checked for compliance right away)."""
    form = NewTemplateForm()
    form.chart_spec.choices = [SelectChoice("", "无配图")] + [
        SelectChoice(name, title) for name, title in chart_titles().items()]
    note = change_wordings(form, request.form) if request.method == "POST" else None
    if note:
        flash(note, "info")
    elif form.validate_on_submit():
        try:
            template = services.create_template(
                current_user.id, form.slug.data, form.title.data, form.product.data,
                form.channel.data, form.chart_spec.data, form.body.data,
                content_kind=form.content_kind.data, valid_from_date=form.valid_from_date.data,
                valid_until_date=form.valid_until_date.data, variants=form.variants.data)
        except (ValidationFailed, Conflict) as error:
            discard_changes()
            _flash_error(error)
        else:
            flash(f"已创建模板「{template.title}」（第 1 版）", "success")
            return redirect(url_for("content.edit", template_id=template.id))
    return render_template("content/new.html", form=form)


@bp.route("/<int:template_id>")
@permission_required(Action.read_content)
def show(template_id: int):
    """The latest version with highlighted findings, and the review actions."""
    return _show_page(services.get_template(template_id))


def _show_page(template, review_form=None, status: int = 200):
    version = template.latest_version
    blockers = services.approval_blockers(template, current_user)
    base = comparison_base(template, version)
    return render_template(
        "content/show.html", template=template, version=version, base=base,
        diff=body_diff(base.body, version.body) if base is not None else [],
        wordings=wordings(version), blockers=blockers,
        review_form=review_form or ReviewForm(), action_form=ActionForm(),
        is_editor=can(current_user, Action.write_content),
        is_reviewer=can(current_user, Action.review_content),
    ), status


@bp.route("/<int:template_id>/edit", methods=["GET", "POST"])
@permission_required(Action.write_content)
def edit(template_id: int):
    """Edit the body and its wordings; saving creates a new version and lists its findings."""
    template = services.get_template(template_id)
    if template.status is TemplateStatus.retired:
        flash("模板已停用，不能编辑", "info")
        return redirect(url_for("content.show", template_id=template.id))
    latest = template.latest_version
    form = BodyForm(data={"body": latest.body, "variants": latest.bodies[1:]})
    status = 200
    note = change_wordings(form, request.form) if request.method == "POST" else None
    if note:
        flash(note, "info")
    elif form.validate_on_submit():
        latest_id = template.latest_version.id
        try:
            version = services.save_version(template.id, current_user.id, form.body.data,
                                            form.variants.data)
        except (ValidationFailed, Conflict) as error:
            discard_changes()
            _flash_error(error)
            status = error.status_code
        else:
            _flash_saved(version, unchanged=version.id == latest_id)
            return redirect(url_for("content.edit", template_id=template.id))
    version = template.latest_version
    return render_template(
        "content/edit.html", template=template, version=version, form=form,
        wordings=wordings(version), action_form=ActionForm(),
    ), status


@bp.route("/<int:template_id>/preview")
@permission_required(Action.read_content)
def preview(template_id: int):
    """Render the latest version with a date's market data and chart, and check the text."""
    form = PreviewForm(formdata=request.args)
    run_date = form.date.data if form.validate() else None
    variant = request.args.get("variant", 0, type=int)
    result = services.preview(template_id, run_date=run_date, variant=variant)
    text = result.outcome.text or ""
    return render_template(
        "content/preview.html", template=services.get_template(template_id), form=form,
        result=result, segments=highlight(text, result.findings), variant=variant,
    )


@bp.route("/<int:template_id>/submit", methods=["POST"])
@permission_required(Action.write_content)
def submit(template_id: int):
    """Send the latest version to review."""
    given = {int(key.removeprefix("justification_")): value[:500]
             for key, value in request.form.items()
             if key.startswith("justification_") and key[14:].isdigit() and len(key) < 30}
    return _act(template_id,
                lambda: services.submit_for_review(template_id, current_user.id, given),
                "已提交复核")


@bp.route("/<int:template_id>/approve", methods=["POST"])
@permission_required(Action.review_content)
def approve(template_id: int):
    """Approve the version in review (never one's own; never with a blocking finding)."""
    form = ReviewForm()
    return _act(template_id,
                lambda: services.approve(template_id, current_user.id, form.comment.data or ""),
                "已批准，SOP 计划将使用此版本", form)


@bp.route("/<int:template_id>/reject", methods=["POST"])
@permission_required(Action.review_content)
def reject(template_id: int):
    """Send the version back to the editor with a comment."""
    form = ReviewForm()
    return _act(template_id,
                lambda: services.reject(template_id, current_user.id, form.comment.data or ""),
                "已退回修改", form)


@bp.route("/<int:template_id>/retire", methods=["POST"])
@permission_required(Action.retire_content)
def retire(template_id: int):
    """Stop using a template."""
    return _act(template_id, lambda: services.retire(template_id, current_user.id), "已停用")


def _act(template_id: int, action, success: str, review_form=None):
    """Run a state change from a CSRF-checked POST; domain errors re-render the page."""
    form = review_form or ActionForm()
    if not form.validate_on_submit():
        flash("表单已过期，请重试", "error")
        return redirect(url_for("content.show", template_id=template_id))
    try:
        action()
    except (Conflict, ValidationFailed, PermissionDenied) as error:
        discard_changes()
        _flash_error(error)
        return _show_page(services.get_template(template_id), review_form, error.status_code)
    flash(success, "success")
    return redirect(url_for("content.show", template_id=template_id))


@bp.route("/<int:template_id>/versions")
@permission_required(Action.read_content)
def versions(template_id: int):
    """Version history with authors, hashes, findings and review decisions."""
    template = services.get_template(template_id)
    return render_template("content/versions.html", template=template,
                           versions=list(reversed(template.versions)))


@bp.route("/<int:template_id>/versions/<int:number>")
@permission_required(Action.read_content)
def version(template_id: int, number: int):
    """One historical version with its highlighted findings."""
    template = services.get_template(template_id)
    item = queries.get_version(template_id, number)
    return render_template("content/version.html", template=template, version=item,
                           wordings=wordings(item))


def _flash_saved(version, unchanged: bool) -> None:
    if unchanged:
        flash(f"正文没有改动，仍为第 {version.number} 版", "info")
        return
    counts = finding_counts(version.findings)
    flash(f"已保存第 {version.number} 版：阻断 {counts['block']} 项，提示 {counts['warn']} 项",
          "success")


def _flash_error(error) -> None:
    details = list(error.errors.values()) if isinstance(error.errors, dict) else []
    for message in details or [error.message]:
        flash(message, "error")
