"""Login form (Flask-WTF, CSRF-protected)."""

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from app.core.forms import ChineseMeta


class LoginForm(FlaskForm):
    """Username and password."""

    Meta = ChineseMeta

    username = StringField("用户名", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired(), Length(max=128)])
    submit = SubmitField("登录")
