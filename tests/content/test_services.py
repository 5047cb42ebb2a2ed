import hashlib

import pytest
from sqlalchemy import select

from app.compliance import Severity
from app.content import services
from app.content.checks import RENDER_RULE_ID
from app.content.models import Approval, ApprovalDecision, TemplateStatus
from app.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.org.models import Role
from tests.factories import UserFactory

SAFE_FUND = ("基金定投是一种纪律性的投资方式。基金有风险，投资须谨慎。"
             "基金管理人不保证基金一定盈利，也不保证最低收益。")
UNSAFE_FUND = "本基金保本保息，稳赚不赔。投资有风险，投资须谨慎。"


def _create(author, body=SAFE_FUND, slug="fund-edu", product="fund"):
    return services.create_template(author.id, slug, "定投课堂", product, "moments_post", None,
                                    body)


def _in_review(author, body=SAFE_FUND, **kwargs):
    template = _create(author, body, **kwargs)
    services.submit_for_review(template.id, author.id)
    return template


def test_create_template_makes_version_one(editor):
    template = _create(editor)
    version = template.latest_version
    assert template.status is TemplateStatus.draft
    assert template.author_id == editor.id
    assert version.number == 1 and version.author_id == editor.id
    assert version.body_sha256 == hashlib.sha256(SAFE_FUND.encode()).hexdigest()
    assert version.findings == []


def test_create_stores_findings_with_body_offsets(editor):
    template = _create(editor, UNSAFE_FUND)
    findings = template.latest_version.findings
    hit = {f.rule_id: UNSAFE_FUND[f.start:f.end] for f in findings if f.is_blocking}
    assert "INV-01" in hit
    assert "保本" in hit["INV-01"] or "稳赚" in hit["INV-01"]
    assert all(f.citation for f in findings)


@pytest.mark.parametrize("role", ["frontline", "reviewer", "manager"])
def test_only_editors_create(db, role):
    with pytest.raises(PermissionDenied):
        _create(UserFactory(role=role))


def test_create_validates_fields_and_slug(editor):
    with pytest.raises(ValidationFailed) as caught:
        services.create_template(editor.id, "Bad Slug", "", "crypto", "fax", "nope", " ")
    assert set(caught.value.errors) == {"slug", "title", "product", "channel", "chart_spec", "body"}
    _create(editor)
    with pytest.raises(Conflict):
        _create(editor)


def test_save_version_increments_and_returns_to_draft(editor, reviewer):
    template = _in_review(editor)
    services.approve(template.id, reviewer.id, "")
    version = services.save_version(template.id, editor.id, SAFE_FUND + "\n欢迎咨询。")
    assert version.number == 2
    assert template.status is TemplateStatus.draft
    assert template.approved_version.number == 1
    assert services.save_version(template.id, editor.id, SAFE_FUND + "\n欢迎咨询。") is version
    with pytest.raises(ValidationFailed):
        services.save_version(template.id, editor.id, "   ")
    with pytest.raises(PermissionDenied):
        services.save_version(template.id, reviewer.id, "x")
    with pytest.raises(NotFound):
        services.save_version(999_999, editor.id, "x")


def test_submit_rules(editor):
    blocked = _create(editor, UNSAFE_FUND, slug="unsafe")
    with pytest.raises(Conflict, match="阻断"):
        services.submit_for_review(blocked.id, editor.id)
    template = _in_review(editor)
    assert template.status is TemplateStatus.in_review
    with pytest.raises(Conflict):
        services.submit_for_review(template.id, editor.id)


def test_approve_happy_path(editor, reviewer):
    template = _in_review(editor)
    approval = services.approve(template.id, reviewer.id, "同意")
    assert template.status is TemplateStatus.approved
    assert template.approved_version_id == template.latest_version.id
    assert approval.decision is ApprovalDecision.approved and approval.reviewer_id == reviewer.id
    assert approval.comment == "同意"


def test_an_admin_is_not_a_reviewer(db, editor):
    """Separation of duties: an admin may write content but never approve or reject it."""
    admin = UserFactory(role="admin")
    template = _in_review(editor)
    assert services.approval_blockers(template, admin) == ["只有合规复核人员可以批准"]
    with pytest.raises(PermissionDenied):
        services.approve(template.id, admin.id)
    with pytest.raises(PermissionDenied):
        services.reject(template.id, admin.id, "退回")
    assert template.status is TemplateStatus.in_review
    assert template.latest_version.approvals == []


def test_four_eyes_applies_to_latest_version_author(db, editor):
    """An editor who wrote the latest version and later became a reviewer cannot approve it."""
    colleague = UserFactory(role="editor")
    template = _create(editor)
    services.save_version(template.id, colleague.id, SAFE_FUND + "（同事修改）")
    services.submit_for_review(template.id, editor.id)
    colleague.role = Role.reviewer
    assert services.approval_blockers(template, colleague) == ["不能批准自己编写的版本（双人复核）"]
    with pytest.raises(Conflict, match="双人复核"):
        services.approve(template.id, colleague.id)
    with pytest.raises(Conflict, match="双人复核"):
        services.reject(template.id, colleague.id, "自己退回")
    services.approve(template.id, UserFactory(role="reviewer").id)
    assert template.status is TemplateStatus.approved


def test_cannot_approve_with_blocking_finding(editor, reviewer):
    template = _create(editor, UNSAFE_FUND)
    template.status = TemplateStatus.in_review  # e.g. forced past the submit check
    with pytest.raises(Conflict, match="阻断"):
        services.approve(template.id, reviewer.id)
    assert template.approved_version_id is None


def test_cannot_approve_draft_and_editor_cannot_approve(editor, reviewer):
    template = _create(editor)
    with pytest.raises(Conflict, match="待复核"):
        services.approve(template.id, reviewer.id)
    services.submit_for_review(template.id, editor.id)
    with pytest.raises(PermissionDenied):
        services.approve(template.id, UserFactory(role="editor").id)
    with pytest.raises(PermissionDenied):
        services.approve(template.id, UserFactory(role="frontline").id)


def test_reject_then_resubmit_and_approve_by_same_reviewer(db, editor, reviewer):
    template = _in_review(editor)
    with pytest.raises(ValidationFailed):
        services.reject(template.id, reviewer.id, "  ")
    services.reject(template.id, reviewer.id, "请补充数据来源")
    assert template.status is TemplateStatus.draft
    services.submit_for_review(template.id, editor.id)
    services.approve(template.id, reviewer.id, "已修改")
    rows = list(db.session.scalars(select(Approval).where(
        Approval.version_id == template.latest_version.id)))
    assert [(r.decision, r.comment) for r in rows] == [(ApprovalDecision.approved, "已修改")]


def test_retire(editor, reviewer):
    template = _in_review(editor)
    services.approve(template.id, reviewer.id)
    services.retire(template.id, reviewer.id)
    assert template.status is TemplateStatus.retired
    with pytest.raises(Conflict):
        services.save_version(template.id, editor.id, "新内容")
    with pytest.raises(Conflict):
        services.retire(template.id, editor.id)
    with pytest.raises(PermissionDenied):
        services.retire(template.id, UserFactory(role="frontline").id)


def test_sample_render_failure_is_a_blocking_finding(editor, market):
    template = _create(editor, "上证收于{{ market.XXX.close }}。" + SAFE_FUND)
    finding = next(f for f in template.latest_version.findings if f.rule_id == RENDER_RULE_ID)
    assert finding.is_blocking and "market.XXX" in finding.message
    assert finding.start is None and finding.end is None


def test_rendered_text_findings_are_stored(editor, market):
    body = "金价今日{{ market.GOLD.change_pct|pct }}。市场有风险，投资须谨慎。"
    template = _create(editor, body, product="gold", slug="gold-x")
    rules = {f.rule_id: f for f in template.latest_version.findings}
    assert "DATA-01" in rules  # a % next to 金价 appears only after rendering
    assert rules["DATA-01"].severity is Severity.warn
    assert rules["DATA-01"].start is None  # "+x.xx%" is not in the body


def test_context_dependent_body_finding_dropped_when_render_satisfies_it(editor, market):
    body = ("金价变动 {{ market.GOLD.change_pct|num }}%。数据来源：{{ market.GOLD.source }}，"
            "截至 {{ market.GOLD.as_of }}。市场有风险，投资须谨慎。")
    template = _create(editor, body, product="gold", slug="gold-y")
    assert not [f for f in template.latest_version.findings if f.is_blocking]


def test_forbidden_text_in_untaken_branch_still_found(editor, market):
    body = "{% if market.GOLD.close < 0 %}稳赚不赔{% endif %}市场有风险，投资须谨慎。"
    template = _create(editor, body, product="gold", slug="gold-z")
    hits = [body[f.start:f.end] for f in template.latest_version.findings if f.is_blocking]
    assert any("稳赚" in hit for hit in hits)
