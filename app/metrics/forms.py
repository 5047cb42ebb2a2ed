"""Filter form of the scorecard (read-only GET form)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional, StopValidation

from app.core.forms import ChineseMeta
from app.core.http import bounded_int
from app.metrics.periods import PERIOD_LABELS, Period

DATE_FORMAT_MESSAGE = "日期格式应为 YYYY-MM-DD"


class IsoDateField(DateField):
    """A ``DateField`` whose parse error names the expected format in Chinese."""

    def process_formdata(self, valuelist):
        """Parse ``YYYY-MM-DD``; empty is ``None``, unparsable gets ``DATE_FORMAT_MESSAGE``."""
        if valuelist and not "".join(valuelist).strip():
            self.data = None
            return
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(DATE_FORMAT_MESSAGE) from error


def date_required(form, field) -> None:
    """Require a date unless its text already failed to parse (one message per mistake).

    WTForms' ``DataRequired`` would replace the format error with "请填写…".
    """
    if field.data is None and not field.process_errors:
        raise StopValidation("请填写截止日期")


def _branch_id(value) -> int | None:
    """Coerce the branch select: empty = the viewer's default scope.

    :raises ValueError: not an id in ``1..MAX_ID`` (a form error, never an overflow
        in the database driver).
    """
    if value in (None, "", "None"):
        return None
    if isinstance(value, int):
        return value
    return bounded_int(str(value), minimum=1)


class ScorecardFilterForm(FlaskForm):
    """Branch, period preset and dates, read from the query string.

    CSRF is off on purpose: the form is submitted by GET, changes nothing, and a token in
    the URL would leak through logs and Referer headers. Branch choices are filled by the
    view from the viewer's scope; choices are not enforced here because the service
    answers an out-of-scope branch with 403 (``PermissionDenied``).
    """

    class Meta(ChineseMeta):
        """Read-only GET form: no CSRF token (see class docstring); Chinese messages."""

        csrf = False

    branch_id = SelectField("机构", coerce=_branch_id, validate_choice=False)
    period = SelectField(
        "考核周期", choices=[SelectChoice(p.value, label) for p, label in PERIOD_LABELS.items()],
        default=Period.weekly.value,
    )
    end = IsoDateField("截止日期", validators=[date_required])
    start = IsoDateField("开始日期（自定义）", validators=[Optional()])
