"""Previews: render a template or body with real market data, and check the rendered text."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from app.compliance import Finding
from app.content.checks import check_rendered
from app.content.models import ContentTemplate
from app.content.rendering import RenderOutcome, render_preview
from app.core.errors import NotFound, ValidationFailed
from app.core.extensions import db


@dataclass
class Preview:
    """A rendering for one date with its findings on the rendered text (offsets in ``text``)."""

    outcome: RenderOutcome
    product: str | None
    chart_spec: str | None
    findings: list[Finding] = field(default_factory=list)

    @property
    def chart_url(self) -> str | None:
        """URL of the template's chart for that date, if it has one."""
        return self.outcome.charts.get(self.chart_spec) if self.chart_spec else None

    @property
    def is_blocked(self) -> bool:
        """True when the rendered text has a blocking finding."""
        return any(f.is_blocking for f in self.findings)


def preview(
    template_id: int | None = None, *, body: str | None = None,
    product: str | None = None, run_date: dt.date | None = None, variant: int = 0,
) -> Preview:
    """Render a template (latest version) or a raw body with stored market data and charts.

    :param template_id: template whose latest body, product, content kind, channel and
        chart are used, or
    :param body: a body to preview instead (with ``product`` for the rules).
    :param run_date: date of the figures; default the latest date with stored market
        data on or before ``business_today()`` (Asia/Shanghai).
    :param variant: the wording of the template's latest version (0: its body; one beyond
        the last wording falls back to 0).
    :returns: :class:`Preview`: text or a safe error, chart URLs, and compliance
        findings on the rendered text. Reads stored bars and charts; writes nothing.
    :raises NotFound: unknown template. :raises ValidationFailed: neither given.
    """
    chart_spec = kind = channel = None
    if template_id is not None:
        template = db.session.get(ContentTemplate, template_id)
        if template is None:
            raise NotFound("模板不存在")
        bodies = template.latest_version.bodies
        body = body if body is not None else bodies[variant if 0 <= variant < len(bodies) else 0]
        product, chart_spec = template.product.value, template.chart_spec
        kind, channel = template.content_kind.value, template.channel.value
    if not body:
        raise ValidationFailed("没有可预览的正文", {"body": "正文不能为空"})
    outcome = render_preview(body, run_date)
    findings = (check_rendered(outcome.text, product, content_kind=kind, channel=channel)
                if outcome.text is not None else [])
    return Preview(outcome=outcome, product=product, chart_spec=chart_spec, findings=findings)
