"""Filter form of the audit page (GET, read-only: no CSRF)."""

from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectChoice, SelectField
from wtforms.validators import NumberRange, Optional

from app.audit.labels import ACTION_LABELS, OBJECT_LABELS
from app.core.forms import ChineseMeta
from app.core.http import MAX_ID


class AuditFilterForm(FlaskForm):
    """Action, object type and id, actor id and a date range (Beijing days)."""

    class Meta(ChineseMeta):
        """Read-only GET form: no CSRF token."""

        csrf = False

    action = SelectField("操作", choices=[SelectChoice("", "全部")] + [
        SelectChoice(k, v) for k, v in ACTION_LABELS.items()], validators=[Optional()])
    object_type = SelectField("对象类型", choices=[SelectChoice("", "全部")] + [
        SelectChoice(k, v) for k, v in OBJECT_LABELS.items()], validators=[Optional()])
    object_id = IntegerField("对象 ID", validators=[Optional(), NumberRange(1, MAX_ID)])
    actor_id = IntegerField("操作人 ID", validators=[Optional(), NumberRange(1, MAX_ID)])
    from_date = DateField("起始日期", validators=[Optional()])
    to_date = DateField("结束日期", validators=[Optional()])
