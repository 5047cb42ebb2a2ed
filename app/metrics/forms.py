"""Filter form of the scorecard (read-only GET form)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Optional

from app.metrics.periods import PERIOD_LABELS, Period


def _branch_id(value) -> int | None:
    """Coerce the branch select: empty = the viewer's default scope."""
    if value in (None, "", "None"):
        return None
    return int(value)


class ScorecardFilterForm(FlaskForm):
    """Branch, period preset and dates, read from the query string.

    CSRF is off on purpose: the form is submitted by GET, changes nothing, and a token in
    the URL would leak through logs and Referer headers. Branch choices are filled by the
    view from the viewer's scope; choices are not enforced here because the service
    answers an out-of-scope branch with 403 (``PermissionDenied``).
    """

    class Meta:
        """Read-only GET form: no CSRF token (see class docstring)."""

        csrf = False

    branch_id = SelectField("机构", coerce=_branch_id, validate_choice=False)
    period = SelectField(
        "考核周期", choices=[SelectChoice(p.value, label) for p, label in PERIOD_LABELS.items()],
        default=Period.weekly.value,
    )
    end = DateField("截止日期", validators=[DataRequired(message="请填写截止日期")])
    start = DateField("开始日期（自定义）", validators=[Optional()])
