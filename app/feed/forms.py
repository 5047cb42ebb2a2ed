"""Forms of the front-line pages (Flask-WTF, CSRF-protected)."""

from flask_wtf import FlaskForm
from wtforms import IntegerField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.broadcasts.models import NOTE_MAX_CHARS
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


class NoteForm(FlaskForm):
    """Set the personal note 附言 of a task (empty removes it); checked before it is saved."""

    Meta = ChineseMeta

    note = TextAreaField("附言", validators=[Optional(), Length(max=NOTE_MAX_CHARS)])
    submit = SubmitField("保存附言")
