"""Live compliance check: ``POST /api/v1/compliance/check`` (described in the OpenAPI document).

The editor page posts the body being typed (debounced in ``static/live_check.js``) and gets
the findings of that body for the template's content kind, product, channel and chart, as the
save would store them, plus the highlighted segments and today's template variables.
API clients authenticate with their bearer token; the editor page, which has only its
session, sends the CSRF token in ``X-CSRFToken``
(:func:`app.auth.decorators.api_or_session_permission_required`). The blueprint is exempt
from the form CSRF check because that decorator does it for session requests.
Errors are JSON ``{"error", "errors"?}`` (422 for a bad body, 404 for an unknown template).
"""

from flask import jsonify

from app.auth.decorators import api_or_session_permission_required
from app.auth.permissions import Action
from app.content import api_bp, services
from app.content.checks import findings_for_body
from app.content.presenters import highlight
from app.content.rendering import sample_context
from app.core.errors import ValidationFailed
from app.core.extensions import csrf
from app.core.http import MAX_ID, read_json_body

csrf.exempt(api_bp)


def _variables(context: dict | None) -> list[dict]:
    """``[{"name", "value"}]`` of the variables a template may use, with today's values."""
    if context is None:
        return []
    out = [{"name": "date", "value": context["date"]}]
    for code, series in sorted(context["market"].items()):
        for key in ("name", "close", "change_pct", "as_of", "source"):
            out.append({"name": f"market.{code}.{key}", "value": series[key]})
    for key in ("name", "branch"):
        out.append({"name": f"staff.{key}", "value": context["staff"][key]})
    out += [{"name": f"charts.{name}", "value": url} for name, url in context["charts"].items()]
    return out


@api_bp.post("/check")
@api_or_session_permission_required(Action.write_content)
def compliance_check():
    """Findings of ``{"template_id": int, "body": str}``; 422 with field errors otherwise."""
    data = read_json_body(required=True)
    if not isinstance(data, dict):
        raise ValidationFailed("输入有误", {"body": "需要 JSON 对象"})
    template_id, body = data.get("template_id"), data.get("body")
    if not isinstance(template_id, int) or not 1 <= template_id <= MAX_ID:
        raise ValidationFailed("输入有误", {"template_id": "缺少模板"})
    if not isinstance(body, str) or not body.strip() or len(body) > services.MAX_BODY_CHARS:
        raise ValidationFailed("输入有误", {"body": "正文不能为空，且不超过 10000 字"})
    template = services.get_template(template_id)
    context = sample_context()
    findings, sample_date = findings_for_body(
        body, template.product.value, context, content_kind=template.content_kind.value,
        channel=template.channel.value, chart_spec=template.chart_spec)
    return jsonify({
        "sample_date": sample_date.isoformat() if sample_date else None,
        "findings": [f.to_dict() for f in findings],
        "segments": [{"text": s.text, "css": s.css, "rules": s.rule_ids}
                     for s in highlight(body, findings)],
        "variables": _variables(context),
    })
