"""Web form for logging a customer reaction against one task."""

from flask_wtf import FlaskForm
from wtforms import DecimalField, HiddenField, IntegerField, SelectField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.core.forms import ChineseMeta
from app.interactions.models import KIND_LABELS
from app.interactions.schemas import EVENT_ID_MAX_CHARS, MAX_QUANTITY

#: ``(value, Chinese label)`` pairs, in display order.
KIND_CHOICES = [(kind.value, label) for kind, label in KIND_LABELS.items()]


class InteractionForm(FlaskForm):
    """One event against one task.

    ``event_id`` is generated when the page is rendered, so a double submit of the
    same form is recorded once.
    """

    Meta = ChineseMeta

    event_id = HiddenField(
        "记录编号", validators=[DataRequired(), Length(max=EVENT_ID_MAX_CHARS)]
    )
    kind = SelectField(
        "客户反馈", choices=[SelectChoice(value, label) for value, label in KIND_CHOICES],
        validators=[DataRequired()],
    )
    quantity = IntegerField(
        "人数", default=1, validators=[
            InputRequired(message="请填写人数"), NumberRange(min=1, message="至少为 1"),
            NumberRange(max=MAX_QUANTITY, message=f"不能超过 {MAX_QUANTITY}"),
        ],
    )
    amount_cny = DecimalField("转化金额（元）", places=2, validators=[Optional()])
    submit = SubmitField("登记")
