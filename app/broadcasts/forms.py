"""SOP plan form (Flask-WTF, CSRF-protected)."""

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TimeField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.broadcasts.calendars import CALENDAR_LABELS
from app.core.forms import ChineseMeta


class SopPlanForm(FlaskForm):
    """Create an SOP plan; choices are filled by the view."""

    Meta = ChineseMeta

    name = StringField("计划名称", validators=[DataRequired(), Length(max=120)])
    template_id = SelectField("内容模板（已批准）", coerce=int)
    branch_id = SelectField("下发范围（机构及下级）", coerce=int)
    send_time = TimeField("发送时间（北京时间）", validators=[DataRequired()])
    calendar = SelectField("运行日历", choices=[
        SelectChoice(code, label) for code, label in CALENDAR_LABELS.items()])
    schedule = StringField("发送规则（可选，填写后代替日历与发送时间，例如 weekly:MON,THU@08:30）",
                           validators=[Optional(), Length(max=120)])
    start_date = DateField("开始日期（可选）", validators=[Optional()])
    end_date = DateField("结束日期（可选）", validators=[Optional()])
    max_runs = IntegerField("运行次数上限（可选）", validators=[Optional(), NumberRange(min=1)])
    submit = SubmitField("创建计划")


class ToggleForm(FlaskForm):
    """Pause/resume button (CSRF only)."""

    submit = SubmitField("切换")
