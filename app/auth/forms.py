"""Login and change-password forms (Flask-WTF, CSRF-protected)."""

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from app.auth.passwords import MAX_LENGTH
from app.core.forms import ChineseMeta


class LoginForm(FlaskForm):
    """Username and password."""

    Meta = ChineseMeta

    username = StringField("用户名", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired(), Length(max=128)])
    submit = SubmitField("登录")


class ChangePasswordForm(FlaskForm):
    """The user's current password and the new one, typed twice (policy checked by the service)."""

    Meta = ChineseMeta

    current_password = PasswordField("当前密码", validators=[DataRequired(),
                                                          Length(max=MAX_LENGTH)])
    new_password = PasswordField("新密码", validators=[DataRequired(), Length(max=MAX_LENGTH)])
    confirm_password = PasswordField("再次输入新密码", validators=[
        DataRequired(), EqualTo("new_password", message="两次输入的新密码不一致")])
    submit = SubmitField("修改密码")
