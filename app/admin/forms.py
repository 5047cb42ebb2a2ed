"""Administration forms (Flask-WTF, CSRF-protected); select choices are filled by the views."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import AnyOf, DataRequired, Length, Optional, Regexp

from app.auth.passwords import MAX_LENGTH
from app.core.forms import ChineseMeta
from app.org.models import ROLE_LABELS, BranchLevel, Role

ROLE_CHOICES = [SelectChoice(role.value, ROLE_LABELS[role]) for role in Role]
LEVEL_LABELS = {BranchLevel.hq: "总行", BranchLevel.branch: "分行", BranchLevel.sub_branch: "支行"}
LEVEL_CHOICES = [SelectChoice(level.value, label) for level, label in LEVEL_LABELS.items()]
#: The parent choice meaning "none" (a head office 总行 is the root of the tree).
NO_PARENT = 0

_USERNAME = Regexp(r"^[A-Za-z0-9_.-]+$", message="只能包含英文字母、数字和 _ . -")
_WECOM_USERID = Regexp(r"^[A-Za-z0-9_.@-]+$", message="只能包含英文字母、数字和 _ . @ -")
_CODE = Regexp(r"^[A-Za-z0-9_-]+$", message="只能包含英文字母、数字和 _ -")


class _UserFields(FlaskForm):
    Meta = ChineseMeta

    display_name = StringField("显示名", validators=[DataRequired(), Length(max=64)])
    role = SelectField("角色", choices=ROLE_CHOICES, description=(
        "系统管理员不能审批内容：审批只能由合规复核角色完成（双人复核）。"))
    branch_id = SelectField("所属机构", coerce=int)
    wecom_userid = StringField("企业微信 ID（userid，可不填）", validators=[
        Optional(), Length(max=64), _WECOM_USERID])


class UserCreateForm(_UserFields):
    """A new account; a blank initial password is generated and shown once."""

    username = StringField("用户名（登录名）", validators=[DataRequired(), Length(min=2, max=64),
                                                   _USERNAME])
    password = PasswordField("初始密码（留空则自动生成）", validators=[
        Optional(), Length(max=MAX_LENGTH)])


class UserEditForm(_UserFields):
    """Display name, role, branch and WeCom userid of an account."""


class UserActiveForm(FlaskForm):
    """Deactivate (``active=0``) or reactivate (``active=1``) an account."""

    Meta = ChineseMeta

    active = HiddenField(validators=[DataRequired(), AnyOf(["0", "1"])])


class ResetPasswordForm(FlaskForm):
    """Reset a user's password (CSRF token only)."""

    Meta = ChineseMeta


class BranchForm(FlaskForm):
    """Create or edit a branch: code, name, level and parent (``NO_PARENT`` for a 总行)."""

    Meta = ChineseMeta

    code = StringField("机构代码", validators=[DataRequired(), Length(max=32), _CODE])
    name = StringField("机构名称", validators=[DataRequired(), Length(max=120)])
    level = SelectField("层级", choices=LEVEL_CHOICES)
    parent_id = SelectField("上级机构", coerce=int)
