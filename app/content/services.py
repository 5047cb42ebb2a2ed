"""Content-template rules: versions, compliance findings, review and four-eyes approval.

Editors create and edit templates and submit them; reviewers approve or reject, never a
version they wrote (four-eyes); who may do what is ``app.auth.permissions``. Each
save creates an immutable :class:`TemplateVersion` (identified by the SHA-256 of
its body) with its compliance findings, and sends the template back to draft.
Services flush; the caller commits.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import re
from collections.abc import Sequence

from sqlalchemy import select

from app.audit.chain import record
from app.auth.permissions import Action, can, require
from app.compliance import Finding
from app.content.checks import findings_for_body
from app.content.models import (
    Approval,
    ApprovalDecision,
    Channel,
    ComplianceFinding,
    ContentKind,
    ContentTemplate,
    ProductCategory,
    TemplateStatus,
    TemplateVersion,
)
from app.content.previews import Preview, preview
from app.content.rehearsal import rehearse_approval
from app.content.rendering import chart_spec_names, sample_context
from app.content.variants import MAX_BODY_CHARS, add_variants, body_error, validated_bodies
from app.core.clock import utcnow
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.extensions import db
from app.org.models import User

__all__ = [
    "MAX_BODY_CHARS", "Preview", "approval_blockers", "approve", "body_sha256", "create_template",
    "get_template", "preview", "reject", "retire", "save_version", "submit_for_review",
]
logger = logging.getLogger(__name__)

#: Findings of a body and the sample date of its rendering (``checks.findings_for_body``).
_Checked = tuple[list[Finding], dt.date | None]

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,63}$")


def body_sha256(body: str) -> str:
    """Hex SHA-256 of the UTF-8 body (identifies approved text, rule CH-01)."""
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def get_template(template_id: int) -> ContentTemplate:
    """Load a template or raise :class:`NotFound`."""
    template = db.session.get(ContentTemplate, template_id)
    if template is None:
        raise NotFound("模板不存在")
    return template


def _actor(user_id: int, action: Action) -> User:
    user = db.session.get(User, user_id)
    if user is None or not user.is_active:
        raise NotFound("用户不存在")
    require(user, action)
    return user


def create_template(
    author_id: int, slug: str, title: str, product: str | ProductCategory,
    channel: str | Channel, chart_spec: str | None, body: str,
    content_kind: str | ContentKind | None = None, valid_from_date: dt.date | None = None,
    valid_until_date: dt.date | None = None, variants: Sequence[str] = (),
) -> ContentTemplate:
    """Create a draft template with version 1 (and its compliance findings).

    :param author_id: id of an editor (or admin).
    :param slug: unique lowercase id, ``[a-z0-9][a-z0-9_-]{1,63}``.
    :param product: ``ProductCategory`` or its value (with the kind, selects the rules).
    :param channel: ``Channel`` or its value (mass_message, moments_post, customer_group).
    :param chart_spec: a chart spec name from ``charts/`` or ``None``/"" for none.
    :param body: Jinja source (plain text, no HTML).
    :param content_kind: ``ContentKind`` or its value; ``None``: market commentary for the
        ``general`` product, else product promotion. A promotion needs a product category.
    :param valid_from_date: first run date it may be published on (inclusive) or ``None``.
    :param valid_until_date: last such date (inclusive) or ``None``.
    :param variants: further wordings of the body (``app.content.variants``), each checked
        on its own.
    :returns: the new template (flushed), status ``draft``.
    :raises PermissionDenied: the author is not an editor/admin.
    :raises ValidationFailed: per-field messages for invalid values.
    :raises Conflict: the slug is taken.
    """
    author = _actor(author_id, Action.write_content)
    values = _validated(slug, title, product, channel, chart_spec, body)
    values.update(_kind_and_validity(content_kind, values["product"], valid_from_date,
                                     valid_until_date))
    bodies = validated_bodies(body, variants)
    if db.session.scalar(select(ContentTemplate.id).where(ContentTemplate.slug == values["slug"])):
        raise Conflict(f"标识 {values['slug']} 已被使用")
    checked = _checked_bodies(bodies, _RuleTarget.of(values))  # render before any write
    template = ContentTemplate(author_id=author.id, status=TemplateStatus.draft,
                               **{k: v for k, v in values.items() if k != "body"})
    db.session.add(template)
    db.session.flush()
    version = _add_version(template, author, bodies, checked)
    record(author.id, "template_created", "template", template.id, version=version.number,
           content_sha256=version.content_sha256, after=_snapshot(template, version))
    logger.info("template created template_id=%s slug=%s author_id=%s",
                template.id, template.slug, author.id)
    return template


def _validated(slug, title, product, channel, chart_spec, body) -> dict:
    errors: dict[str, str] = {}
    slug, title = (slug or "").strip(), (title or "").strip()
    if not SLUG_RE.match(slug):
        errors["slug"] = "标识只能包含小写字母、数字、- 和 _，长度 2–64"
    if not title or len(title) > 120:
        errors["title"] = "标题不能为空，且不超过 120 字"
    try:
        product = ProductCategory(getattr(product, "value", product))
    except ValueError:
        errors["product"] = "未知的产品类别"
    try:
        channel = Channel(getattr(channel, "value", channel))
    except ValueError:
        errors["channel"] = "未知的发布渠道"
    chart_spec = (chart_spec or "").strip() or None
    if chart_spec is not None and chart_spec not in chart_spec_names():
        errors["chart_spec"] = "未知的图表"
    problem = body_error(body)
    if problem:
        errors["body"] = problem
    if errors:
        raise ValidationFailed("输入有误", errors)
    return {"slug": slug, "title": title, "product": product, "channel": channel,
            "chart_spec": chart_spec, "body": body}


def _kind_and_validity(content_kind, product: ProductCategory, valid_from, valid_until
                       ) -> dict:
    """Validated ``content_kind`` and validity dates; raises :class:`ValidationFailed`."""
    errors = {}
    if content_kind in (None, ""):
        content_kind = (ContentKind.market_commentary if product is ProductCategory.general
                        else ContentKind.product_promotion)
    try:
        content_kind = ContentKind(getattr(content_kind, "value", content_kind))
    except ValueError:
        errors["content_kind"] = "未知的内容类别"
    if content_kind is ContentKind.product_promotion and product is ProductCategory.general:
        errors["product"] = "产品推介须选择产品类别（按该类产品的全部规则审核）"
    if valid_from and valid_until and valid_until < valid_from:
        errors["valid_until_date"] = "有效期结束日不能早于开始日"
    if errors:
        raise ValidationFailed("输入有误", errors)
    return {"content_kind": content_kind, "valid_from_date": valid_from or None,
            "valid_until_date": valid_until or None}


@dataclasses.dataclass(frozen=True)
class _RuleTarget:
    """What the compliance check of a body needs to know about its template."""

    product: str
    content_kind: str
    channel: str
    chart_spec: str | None

    @classmethod
    def of(cls, values) -> _RuleTarget:
        """From a template or a dict of validated values."""
        get = values.get if isinstance(values, dict) else lambda k: getattr(values, k)
        return cls(get("product").value, get("content_kind").value, get("channel").value,
                   get("chart_spec"))


def _checked_bodies(bodies: Sequence[str], target: _RuleTarget) -> list[_Checked]:
    """Findings of each wording with its sample rendering: reads and renders, writes nothing.

    Called before the first write of a save, so that no database write lock (SQLite) is
    held while the template renders.
    """
    context = sample_context()
    return [findings_for_body(body, target.product, context,
                              content_kind=target.content_kind, channel=target.channel,
                              chart_spec=target.chart_spec) for body in bodies]


def _add_version(template: ContentTemplate, author: User, bodies: Sequence[str],
                 checked: list[_Checked]) -> TemplateVersion:
    latest = template.latest_version
    version = TemplateVersion(
        template=template, number=(latest.number + 1) if latest else 1, body=bodies[0],
        body_sha256=body_sha256(bodies[0]), author_id=author.id,
    )
    db.session.add(version)
    db.session.flush()
    add_variants(version, bodies)
    for variant, (findings, _) in enumerate(checked):
        for finding in findings:
            db.session.add(ComplianceFinding(
                version_id=version.id, variant=variant, rule_id=finding.rule_id,
                severity=finding.severity, start=finding.start, end=finding.end,
                message=finding.message, citation=finding.citation,
            ))
    db.session.flush()
    db.session.refresh(version, ["findings", "extra_variants"])
    logger.info("template_id=%s version %s saved by user_id=%s: %s wordings, %s findings "
                "(sample %s)", template.id, version.number, author.id, len(bodies),
                len(version.findings), checked[0][1])
    return version


def save_version(template_id: int, editor_id: int, body: str,
                 variants: Sequence[str] = ()) -> TemplateVersion:
    """Save a new body (and its further wordings) as the next version; back to draft.

    Saving the same wordings as the latest version changes nothing and returns it.

    :param template_id: the template.
    :param editor_id: id of an editor (or admin); becomes the version's author.
    :param body: Jinja source; checked for compliance as written and as rendered
        with the latest stored market data (sample staff), in a render worker under the
        render budget, before anything is written (a failed or over-budget render is a
        blocking ``TPL-RENDER`` finding).
    :param variants: the further wordings of the new version (none: the body only); each
        is checked like the body, with its own findings.
    :returns: the new (or unchanged latest) version, with ``findings`` loaded.
    :raises PermissionDenied: not an editor/admin. :raises NotFound: no such template.
    :raises Conflict: the template is retired.
    :raises ValidationFailed: an empty, too long or repeated wording, or too many.
    """
    editor = _actor(editor_id, Action.write_content)
    template = get_template(template_id)
    if template.status is TemplateStatus.retired:
        raise Conflict("模板已停用，不能再编辑")
    bodies = validated_bodies(body, variants)
    latest = template.latest_version
    if latest is not None and latest.bodies == bodies:
        return latest
    checked = _checked_bodies(bodies, _RuleTarget.of(template))  # render before any write
    before = _snapshot(template, latest)
    version = _add_version(template, editor, bodies, checked)
    template.status = TemplateStatus.draft
    record(editor.id, "template_edited", "template", template.id, version=version.number,
           content_sha256=version.content_sha256, before=before,
           after=_snapshot(template, version))
    return version


MIN_JUSTIFICATION_CHARS = 5


def submit_for_review(template_id: int, editor_id: int,
                      justifications: dict[int, str] | None = None) -> ContentTemplate:
    """Send the latest version to review (draft → in_review).

    Every warning of the latest version must be accepted with a written justification
    (stored on the finding with who and when, shown to the reviewer); a justification given
    before is kept.

    :param justifications: finding id → reason (at least 5 characters, at most 500) for the
        warnings of the latest version; other ids are ignored.
    :raises PermissionDenied: not an editor/admin. :raises NotFound: no such template.
    :raises Conflict: not a draft, or the latest version has a blocking finding.
    :raises ValidationFailed: a warning without a justification (per finding id).
    """
    editor = _actor(editor_id, Action.write_content)
    template = get_template(template_id)
    if template.status is not TemplateStatus.draft:
        raise Conflict("只有草稿可以提交复核")
    if any(f.is_blocking for f in template.latest_version.findings):
        raise Conflict("存在阻断性合规问题，请修改后再提交")
    _justify(template.latest_version, editor, justifications or {})
    template.status = TemplateStatus.in_review
    _record_status(editor, "template_submitted", template, TemplateStatus.draft)
    logger.info("template_id=%s submitted by user_id=%s", template.id, editor.id)
    return template


def _justify(version: TemplateVersion, editor: User, given: dict[int, str]) -> None:
    """Store the justifications of the version's warnings; every warning needs one."""
    errors = {}
    for finding in version.findings:
        if finding.is_blocking:
            continue
        reason = (given.get(finding.id) or "").strip()
        if reason:
            if not MIN_JUSTIFICATION_CHARS <= len(reason) <= 500:
                errors[f"justification_{finding.id}"] = "理由须为 5–500 字"
                continue
            finding.justification, finding.justified_by_id = reason, editor.id
            finding.justified_at = utcnow()
        elif not finding.justification:
            errors[f"justification_{finding.id}"] = f"请填写接受提示 {finding.rule_id} 的理由"
    if errors:
        raise ValidationFailed("每条合规提示都须填写接受理由", errors)
    db.session.flush()


def approval_blockers(template: ContentTemplate, user: User) -> list[str]:
    """Reasons why ``user`` may not approve ``template`` now (empty list: may approve).

    :returns: Chinese reasons: wrong role, not in review, own version (four-eyes),
        blocking findings.
    """
    reasons = []
    version = template.latest_version
    if not can(user, Action.review_content):
        reasons.append("只有合规复核人员可以批准")
    elif version is not None and not can(user, Action.review_content, version):
        reasons.append("不能批准自己编写的版本（双人复核）")
    if template.status is not TemplateStatus.in_review:
        reasons.append("模板不在待复核状态")
    if version is not None and any(f.is_blocking for f in version.findings):
        reasons.append("存在阻断性合规问题")
    if version is not None and any(not f.is_blocking and not f.justification
                                   for f in version.findings):
        reasons.append("有合规提示未填写接受理由")
    return reasons


def approve(template_id: int, reviewer_id: int, comment: str = "") -> Approval:
    """Approve the latest version: it becomes ``approved_version`` and the template ``approved``.

    Before anything is written, the version is rendered for each of the next
    ``APPROVAL_RENDER_DAYS`` run dates of the active plans sending the template (or
    the next weekdays), under the render budget (``app.content.rehearsal``).

    :param reviewer_id: a reviewer who did not author that version.
    :param comment: optional note (≤ 500 chars).
    :returns: the approval record.
    :raises PermissionDenied: not a reviewer. :raises NotFound: no such template.
    :raises Conflict: not in review, own version (four-eyes), a blocking finding, or a
        rehearsal date on which the version fails to render or breaks the render budget
        (the reason names the date).
    """
    reviewer = _actor(reviewer_id, Action.review_content)
    template = get_template(template_id)
    reasons = approval_blockers(template, reviewer)
    if reasons:
        raise Conflict(reasons[0])
    for body in template.latest_version.bodies:  # render every wording before any write
        rehearse_approval(template.id, body)
    approval = _decide(template.latest_version, reviewer, ApprovalDecision.approved, comment)
    template.approved_version_id = template.latest_version.id
    template.status = TemplateStatus.approved
    _record_status(reviewer, "template_approved", template, TemplateStatus.in_review,
                   comment=approval.comment)
    logger.info("template_id=%s version_id=%s approved by user_id=%s",
                template.id, template.latest_version.id, reviewer.id)
    return approval


def reject(template_id: int, reviewer_id: int, comment: str) -> Approval:
    """Reject the version in review with a reason; the template goes back to draft.

    :raises PermissionDenied: not a reviewer. :raises NotFound: no such template.
    :raises Conflict: not in review, or the reviewer wrote that version.
    :raises ValidationFailed: empty comment.
    """
    reviewer = _actor(reviewer_id, Action.review_content)
    template = get_template(template_id)
    if not (comment or "").strip():
        raise ValidationFailed("请填写退回原因", {"comment": "请填写退回原因"})
    if template.status is not TemplateStatus.in_review:
        raise Conflict("模板不在待复核状态")
    if not can(reviewer, Action.review_content, template.latest_version):
        raise Conflict("不能复核自己编写的版本（双人复核）")
    approval = _decide(template.latest_version, reviewer, ApprovalDecision.rejected, comment)
    template.status = TemplateStatus.draft
    _record_status(reviewer, "template_rejected", template, TemplateStatus.in_review,
                   comment=approval.comment)
    logger.info("template_id=%s rejected by user_id=%s", template.id, reviewer.id)
    return approval


def _snapshot(template: ContentTemplate, version: TemplateVersion | None) -> dict:
    """The audited fields of a template and one of its versions (JSON values)."""
    return {"slug": template.slug, "title": template.title, "status": template.status.value,
            "product": template.product.value, "content_kind": template.content_kind.value,
            "channel": template.channel.value,
            "variants": len(version.bodies) if version is not None else 0,
            "findings": len(version.findings) if version is not None else 0}


def _record_status(actor: User, action: str, template: ContentTemplate,
                   previous: TemplateStatus, comment: str | None = None) -> None:
    """Audit a status change of the template's latest version (with the review comment)."""
    version = template.latest_version
    after = {"status": template.status.value}
    if comment:
        after["comment"] = comment
    record(actor.id, action, "template", template.id, version=version.number,
           content_sha256=version.content_sha256, before={"status": previous.value},
           after=after)


def _decide(version: TemplateVersion, reviewer: User, decision: ApprovalDecision,
            comment: str) -> Approval:
    """Record (or update, on re-review of the same version) the reviewer's decision."""
    approval = db.session.scalar(select(Approval).where(
        Approval.version_id == version.id, Approval.reviewer_id == reviewer.id))
    if approval is None:
        approval = Approval(version_id=version.id, reviewer_id=reviewer.id)
        db.session.add(approval)
    approval.decision = decision
    approval.comment = (comment or "").strip()[:500]
    approval.decided_at = utcnow()
    db.session.flush()
    return approval


def retire(template_id: int, actor_id: int) -> ContentTemplate:
    """Retire a template: SOP runs stop using it; it can no longer be edited.

    :param actor_id: an editor, reviewer or admin.
    :raises PermissionDenied: other roles. :raises NotFound: no such template.
    :raises Conflict: already retired.
    """
    actor = _actor(actor_id, Action.retire_content)
    template = get_template(template_id)
    if template.status is TemplateStatus.retired:
        raise Conflict("模板已停用")
    previous = template.status
    template.status = TemplateStatus.retired
    _record_status(actor, "template_retired", template, previous)
    logger.info("template_id=%s retired by user_id=%s", template.id, actor.id)
    return template

