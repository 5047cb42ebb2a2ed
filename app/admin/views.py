"""Administration pages 系统管理: users 用户管理, branches 机构管理, audit log 审计日志."""

from __future__ import annotations

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import SelectChoice

from app.admin import bp, services
from app.admin.forms import (
    LEVEL_LABELS,
    NO_PARENT,
    BranchForm,
    ResetPasswordForm,
    UserActiveForm,
    UserCreateForm,
    UserEditForm,
)
from app.audit.labels import FIELD_LABELS
from app.auth.decorators import permission_required
from app.auth.permissions import Action
from app.core.clock import utcnow
from app.core.errors import Conflict, ValidationFailed
from app.core.unit_of_work import discard_changes
from app.org.models import ROLE_LABELS, BranchLevel, Role
from app.org.services import branch_tree, get_branch

#: Largest id or page number read from a query string (larger is ignored, never a 500).
MAX_QUERY_INT = 2**31 - 1


@bp.context_processor
def audit_labels() -> dict:
    """Labels the admin pages use to show audited values in Chinese."""
    return {"field_labels": FIELD_LABELS,
            "role_labels": {role.value: label for role, label in ROLE_LABELS.items()},
            "level_labels": {level.value: label for level, label in LEVEL_LABELS.items()}}


def _int_arg(name: str) -> int | None:
    raw = request.args.get(name, "").strip()
    if not raw.isdigit() or len(raw) > 10 or int(raw) > MAX_QUERY_INT:
        return None
    return int(raw)


def _branch_choices(none_label: str | None = None) -> list[SelectChoice]:
    """The branch tree as select options, indented by depth."""
    choices = [SelectChoice(NO_PARENT, none_label)] if none_label else []
    for branch in branch_tree():
        depth = branch.path.count("/") - 2
        choices.append(SelectChoice(branch.id, f"{'　' * depth}{branch.name}（{branch.code}）"))
    return choices


def _show_errors(form, error: ValidationFailed | Conflict) -> None:
    """Put a service's per-field messages on the form (others as a flash)."""
    discard_changes()
    errors = error.errors if isinstance(error.errors, dict) else {}
    for name, messages in errors.items():
        if name in form:
            form[name].errors = list(messages)
    if not any(name in form for name in errors):
        flash(error.message, "error")


def _no_store(page: str):
    """A page that shows a password once must not be cached."""
    response = make_response(page)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/users")
@permission_required(Action.manage_users)
def users():
    """用户管理: search by name, filter by branch subtree and role, 50 per page."""
    query = request.args.get("q", "").strip()[:64]
    role_value = request.args.get("role", "")
    role = Role(role_value) if role_value in Role._value2member_map_ else None
    branch_id = _int_arg("branch_id")
    page = services.list_users(query, branch_id, role, _int_arg("page") or 1)
    return render_template(
        "admin/users.html", page=page, query=query, role=role, branch_id=branch_id,
        roles=ROLE_LABELS, branches=_branch_choices(), locked=services.locked_users(
            page.items, utcnow()))


@bp.route("/users/new", methods=["GET", "POST"])
@permission_required(Action.manage_users)
def new_user():
    """Create an account; the initial password is shown once and must be changed at login."""
    form = UserCreateForm()
    form.branch_id.choices = _branch_choices()
    if form.validate_on_submit():
        try:
            user, generated = services.create_user(
                current_user, form.username.data.strip(), form.display_name.data.strip(),
                Role(form.role.data), form.branch_id.data, form.wecom_userid.data,
                form.password.data or None, utcnow())
        except ValidationFailed as error:
            _show_errors(form, error)
        else:
            flash(f"已创建用户「{user.display_name}」（{user.username}）", "success")
            return _no_store(render_template("admin/password_shown.html", user=user,
                                             password=generated, created=True))
    return render_template("admin/user_new.html", form=form)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@permission_required(Action.manage_users)
def edit_user(user_id: int):
    """Edit role, branch, display name and WeCom userid; deactivate; reset the password."""
    user = services.get_user(user_id)
    form = UserEditForm(data={"display_name": user.display_name, "role": user.role.value,
                              "branch_id": user.branch_id, "wecom_userid": user.wecom_userid})
    form.branch_id.choices = _branch_choices()
    if form.validate_on_submit():
        try:
            services.update_user(current_user, user.id, form.display_name.data.strip(),
                                 Role(form.role.data), form.branch_id.data,
                                 form.wecom_userid.data)
        except (ValidationFailed, Conflict) as error:
            _show_errors(form, error)
        else:
            flash("已保存", "success")
            return redirect(url_for("admin.edit_user", user_id=user.id))
    return render_template(
        "admin/user_edit.html", user=services.get_user(user_id), form=form,
        active_form=UserActiveForm(formdata=None, active="0" if user.is_active_account else "1"),
        reset_form=ResetPasswordForm(formdata=None),
        locked=services.locked_users([user], utcnow()).get(user.id),
        events=services.list_audit(1, "user", user.id).items)


@bp.post("/users/<int:user_id>/active")
@permission_required(Action.manage_users)
def set_active(user_id: int):
    """Deactivate or reactivate an account (``active`` = 0 or 1)."""
    form = UserActiveForm()
    if not form.validate_on_submit():
        flash("请求无效，请刷新页面后重试", "error")
        return redirect(url_for("admin.edit_user", user_id=user_id))
    try:
        user = services.set_user_active(current_user, user_id, form.active.data == "1")
    except Conflict as error:
        discard_changes()
        flash(error.message, "error")
    else:
        flash(f"已{'启用' if user.is_active_account else '停用'}「{user.display_name}」",
              "success")
    return redirect(url_for("admin.edit_user", user_id=user_id))


@bp.post("/users/<int:user_id>/password")
@permission_required(Action.manage_users)
def reset_password(user_id: int):
    """Reset to a generated password, shown once; the user must change it at next login."""
    form = ResetPasswordForm()
    if not form.validate_on_submit():
        flash("请求无效，请刷新页面后重试", "error")
        return redirect(url_for("admin.edit_user", user_id=user_id))
    try:
        user, password = services.reset_password(current_user, user_id, utcnow())
    except Conflict as error:
        discard_changes()
        flash(error.message, "error")
        return redirect(url_for("admin.edit_user", user_id=user_id))
    return _no_store(render_template("admin/password_shown.html", user=user, password=password,
                                     created=False))


@bp.route("/branches", methods=["GET", "POST"])
@permission_required(Action.manage_branches)
def branches():
    """机构管理: the branch tree, and a form to add a branch."""
    form = BranchForm()
    form.parent_id.choices = _branch_choices("无（总行）")
    if form.validate_on_submit():
        try:
            branch = services.create_branch(current_user, form.code.data.strip(),
                                            form.name.data.strip(), BranchLevel(form.level.data),
                                            form.parent_id.data or None)
        except ValidationFailed as error:
            _show_errors(form, error)
        else:
            flash(f"已创建机构「{branch.name}」", "success")
            return redirect(url_for("admin.branches"))
    return render_template("admin/branches.html", tree=branch_tree(), form=form)


@bp.route("/branches/<int:branch_id>", methods=["GET", "POST"])
@permission_required(Action.manage_branches)
def edit_branch(branch_id: int):
    """Rename, re-level or move a branch (its whole subtree moves with it)."""
    branch = get_branch(branch_id)
    form = BranchForm(data={"code": branch.code, "name": branch.name,
                            "level": branch.level.value,
                            "parent_id": branch.parent_id or NO_PARENT})
    form.parent_id.choices = _branch_choices("无（总行）")
    if form.validate_on_submit():
        try:
            services.update_branch(current_user, branch.id, form.code.data.strip(),
                                   form.name.data.strip(), BranchLevel(form.level.data),
                                   form.parent_id.data or None)
        except ValidationFailed as error:
            _show_errors(form, error)
        else:
            flash("已保存", "success")
            return redirect(url_for("admin.branches"))
    return render_template("admin/branch_edit.html", branch=get_branch(branch_id), form=form,
                           events=services.list_audit(1, "branch", branch_id).items)

