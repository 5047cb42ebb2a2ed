"""Forms of the customers pages: the coverage filter (GET) and the import upload and confirm."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import DateField, HiddenField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Optional, Regexp

from app.core.forms import ChineseMeta
from app.core.http import bounded_int
from app.customers.import_rows import KINDS


def _optional_id(value) -> int | None:
    """Empty = the viewer's default scope; else an id in ``1..MAX_ID`` (ValueError otherwise)."""
    if value in (None, "", "None"):
        return None
    return value if isinstance(value, int) else bounded_int(str(value), minimum=1)


class CoverageFilterForm(FlaskForm):
    """Branch subtree and date of the coverage page, read from the query string.

    CSRF is off: a GET form that changes nothing. Out-of-scope branches are answered by the
    service with 403.
    """

    class Meta(ChineseMeta):
        """Read-only GET form: no CSRF token; Chinese messages."""

        csrf = False

    branch_id = SelectField("机构", coerce=_optional_id, validate_choice=False)
    on = DateField("日期", validators=[Optional()])


class ImportUploadForm(FlaskForm):
    """Which kind of file, and the file itself (CSV or XLSX)."""

    class Meta(ChineseMeta):
        """Chinese messages; CSRF on."""

    kind = SelectField("数据类型", choices=[SelectChoice(k.name, k.label) for k in KINDS.values()])
    file = FileField("文件（CSV 或 XLSX）", validators=[
        FileRequired("请选择文件"), FileAllowed(["csv", "xlsx"], "只支持 CSV 或 XLSX 文件")])


class ImportConfirmForm(FlaskForm):
    """Confirms the previewed upload, the import job ``job_id``."""

    class Meta(ChineseMeta):
        """Chinese messages; CSRF on."""

    job_id = HiddenField(validators=[DataRequired(), Regexp(r"^[1-9][0-9]{0,17}$")])
