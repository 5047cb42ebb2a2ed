"""SOP plan forms (Flask-WTF, CSRF-protected)."""

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TimeField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.broadcasts.calendars import CALENDAR_LABELS
from app.content.models import CHANNEL_LABELS
from app.core.forms import ChineseMeta


class SopPlanForm(FlaskForm):
    """Create or edit an SOP plan; template, branch and segment choices are filled by the view."""

    Meta = ChineseMeta

    name = StringField("计划名称", validators=[DataRequired(), Length(max=120)])
    template_id = SelectField("内容模板（已批准）", coerce=int)
    channel = SelectField("渠道", default="", choices=[SelectChoice("", "按模板的渠道")] + [
        SelectChoice(channel.value, label) for channel, label in CHANNEL_LABELS.items()])
    branch_ids = SelectMultipleField("下发范围（可多选；机构及其下级）", coerce=int,
                                     validators=[DataRequired(message="请至少选择一个下发机构")])
    segment_ids = SelectMultipleField("客群（仅群发，可选；不选 = 全部客户）", coerce=int,
                                      validators=[Optional()])
    send_time = TimeField("发送时间（计划时区）", validators=[DataRequired()])
    calendar = SelectField("运行日历", choices=[
        SelectChoice(code, label) for code, label in CALENDAR_LABELS.items()])
    schedule = StringField("发送规则（可选，填写后代替日历与发送时间，例如 weekly:MON,THU@08:30）",
                           validators=[Optional(), Length(max=120)])
    timezone = StringField("时区（IANA 名称，如 Europe/London；空 = 北京时间）",
                           validators=[Optional(), Length(max=64)])
    start_date = DateField("开始日期（可选）", validators=[Optional()])
    end_date = DateField("结束日期（可选）", validators=[Optional()])
    max_runs = IntegerField("运行次数上限（可选）", validators=[Optional(), NumberRange(min=1)])
    submit = SubmitField("保存")


class ToggleForm(FlaskForm):
    """Pause/resume, archive and re-run buttons (CSRF only)."""

    submit = SubmitField("切换")
