"""Forms of the content pages (Flask-WTF, CSRF-protected)."""

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    FieldList,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, Regexp

from app.content.models import CHANNEL_LABELS, CONTENT_KIND_LABELS, PRODUCT_LABELS
from app.content.variants import MAX_VARIANTS
from app.core.forms import ChineseMeta

BODY_HELP = ("可用变量：date、market.<代码>.name/close/prev_close/change/change_pct/as_of/source/"
             "period_change_pct/period_start、staff.name、staff.branch、charts.<图表>；"
             "过滤器：num、pct、updown、cn_date、weekday_cn")


def lf_newlines(value: str | None) -> str | None:
    """Browsers submit textareas with CRLF line breaks; store bodies with LF as written."""
    return value.replace("\r\n", "\n").replace("\r", "\n") if value else value


class _Wordings(FlaskForm):
    """The further wordings 措辞 of the body (``variants-0`` is 措辞 2); the service checks them.

    Buttons ``add_variant`` and ``remove_variant=<index>`` change the list without saving
    (:func:`change_wordings`).
    """

    variants = FieldList(TextAreaField("措辞", filters=[lf_newlines]),
                         max_entries=MAX_VARIANTS - 1)


def change_wordings(form: _Wordings, values) -> str | None:
    """Apply an add or remove button of the posted ``values`` to ``form.variants``.

    :param values: the request's form data.
    :returns: a Chinese note for the editor when a button was pressed, else ``None``.
    """
    if "add_variant" in values:
        if len(form.variants.entries) >= MAX_VARIANTS - 1:
            return f"最多 {MAX_VARIANTS} 种措辞"
        form.variants.append_entry("")
        return f"已添加措辞 {len(form.variants.entries) + 1}，填写后保存"
    removed = values.get("remove_variant", "")
    if removed.isdigit() and int(removed) < len(form.variants.entries):
        kept = [entry.data for entry in form.variants.entries]
        del kept[int(removed)]
        while form.variants.entries:
            form.variants.pop_entry()
        for text in kept:
            form.variants.append_entry(text)
        return f"已删除措辞 {int(removed) + 2}，保存后生效"
    return None


class NewTemplateForm(_Wordings):
    """Create a template with its first version; chart choices are filled by the view."""

    Meta = ChineseMeta

    slug = StringField("标识（英文小写，唯一）", validators=[
        DataRequired(), Length(min=2, max=64),
        Regexp(r"^[a-z0-9][a-z0-9_-]*$", message="只能包含小写字母、数字、- 和 _"),
    ])
    title = StringField("标题", validators=[DataRequired(), Length(max=120)])
    content_kind = SelectField("内容类别（决定适用的合规规则）", choices=[
        SelectChoice("", "按产品类别判断（综合资讯为市场点评，其他为产品推介）")] + [
        SelectChoice(k.value, label) for k, label in CONTENT_KIND_LABELS.items()], default="",
        description="产品推介按所选产品类别的全部规则审核；市场点评、服务通知、节日问候按通用规则审核，"
                    "若含产品推介内容将被阻断。")
    product = SelectField("产品类别", choices=[
        SelectChoice(p.value, label) for p, label in PRODUCT_LABELS.items()])
    valid_from_date = DateField("有效期起（可空）", validators=[Optional()])
    valid_until_date = DateField("有效期止（可空）", validators=[Optional()])
    channel = SelectField("发布渠道", choices=[
        SelectChoice(c.value, label) for c, label in CHANNEL_LABELS.items()])
    chart_spec = SelectField("配图", choices=[SelectChoice("", "无配图")])
    body = TextAreaField("正文（Jinja 模板）", validators=[DataRequired(), Length(max=10_000)],
                         description=BODY_HELP, filters=[lf_newlines])
    submit = SubmitField("创建")


class BodyForm(_Wordings):
    """Edit the body and its further wordings: saving creates a new version."""

    Meta = ChineseMeta

    body = TextAreaField("正文（Jinja 模板）", validators=[DataRequired(), Length(max=10_000)],
                         description=BODY_HELP, filters=[lf_newlines])
    submit = SubmitField("保存为新版本")


class ReviewForm(FlaskForm):
    """Approve or reject with a comment (required to reject; checked by the service)."""

    Meta = ChineseMeta

    comment = TextAreaField("复核意见", validators=[Optional(), Length(max=500)])


class ActionForm(FlaskForm):
    """A button that only needs CSRF (submit for review, retire)."""


class PreviewForm(FlaskForm):
    """GET form choosing the preview date (no CSRF: read-only query)."""

    class Meta:
        """Read-only GET form: no CSRF token."""

        csrf = False

    date = DateField("行情日期", validators=[Optional()])
