"""Forms of the connector's pages (Flask-WTF, CSRF-protected)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from app.core.forms import ChineseMeta


class WithdrawForm(FlaskForm):
    """Withdraw a published post: the reason is required (shown in 日跟踪)."""

    Meta = ChineseMeta

    reason = StringField("撤回原因", validators=[DataRequired("请填写撤回原因"),
                                                 Length(max=500, message="撤回原因最多 500 字")])
