"""Forms of the front-line pages (Flask-WTF, CSRF-protected)."""

from flask_wtf import FlaskForm
from wtforms import IntegerField, SubmitField
from wtforms.validators import InputRequired, NumberRange, Optional

from app.core.forms import ChineseMeta
from app.feed.services import MAX_REACH_COUNT


class CompleteTaskForm(FlaskForm):
    """Mark a task done, optionally reporting how many customers it was sent to."""

    Meta = ChineseMeta

    reach_count = IntegerField(
        "发送人数", validators=[Optional(), NumberRange(min=0, max=MAX_REACH_COUNT)]
    )
    submit = SubmitField("标记完成")


class IssueTokenForm(FlaskForm):
    """(Re)issue the caller's API token; the old one stops working."""

    submit = SubmitField("生成新令牌")


class ReachCorrectionForm(FlaskForm):
    """Correct the reach 发送人数 of a task already marked done."""

    Meta = ChineseMeta

    reach_count = IntegerField(
        "发送人数",
        validators=[InputRequired(message="请填写发送人数"),
                    NumberRange(min=0, max=MAX_REACH_COUNT)],
    )
    submit = SubmitField("更正")
