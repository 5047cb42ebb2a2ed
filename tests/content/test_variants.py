"""Issue 9: a template holds several wordings 措辞; each passes compliance on its own."""

import hashlib
import json

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.content import services
from app.content.models import TemplateStatus
from app.content.variants import MAX_VARIANTS
from app.core.errors import Conflict, PermissionDenied, ValidationFailed

FIRST = ("基金定投是一种纪律性的投资方式。基金有风险，投资须谨慎。"
         "基金管理人不保证基金一定盈利，也不保证最低收益。")
SECOND = ("定投讲究的是长期坚持与分散买入。基金有风险，投资须谨慎。"
          "基金管理人不保证基金一定盈利，也不保证最低收益。")
UNSAFE = "本基金保本保息，稳赚不赔。基金有风险，投资须谨慎。"


def _create(author, variants=(SECOND,), body=FIRST):
    return services.create_template(author.id, "fund-variants", "定投课堂", "fund",
                                    "moments_post", None, body, variants=variants)


def test_each_wording_is_stored_and_checked_on_its_own(editor):
    template = _create(editor, variants=(SECOND, UNSAFE))
    version = template.latest_version
    assert version.bodies == [FIRST, SECOND, UNSAFE]
    assert [v.variant for v in version.extra_variants] == [1, 2]
    assert version.findings_of(0) == [] and version.findings_of(1) == []
    unsafe = version.findings_of(2)
    assert any(f.is_blocking and UNSAFE[f.start:f.end] in ("保本", "保本保息", "稳赚不赔")
               for f in unsafe)  # offsets index into that wording


def test_a_failing_wording_blocks_submission_and_approval(editor, reviewer):
    template = _create(editor, variants=(UNSAFE,))
    assert template.latest_version.findings_of(0) == []
    with pytest.raises(Conflict, match="阻断性合规问题"):
        services.submit_for_review(template.id, editor.id)
    template.status = TemplateStatus.in_review  # even if it got into review somehow
    assert "存在阻断性合规问题" in services.approval_blockers(template, reviewer)
    with pytest.raises(Conflict):
        services.approve(template.id, reviewer.id)


def test_clean_wordings_pass_the_four_eyes_flow(editor, reviewer):
    template = _create(editor)
    services.submit_for_review(template.id, editor.id)
    with pytest.raises(PermissionDenied):
        services.approve(template.id, editor.id)
    services.approve(template.id, reviewer.id)
    assert template.status is TemplateStatus.approved
    assert template.approved_version.bodies == [FIRST, SECOND]


def test_saving_adds_and_removes_wordings_as_new_versions(editor):
    template = _create(editor, variants=())
    same = services.save_version(template.id, editor.id, FIRST)
    assert same.number == 1
    two = services.save_version(template.id, editor.id, FIRST, [SECOND])
    assert two.number == 2 and two.bodies == [FIRST, SECOND]
    assert services.save_version(template.id, editor.id, FIRST, [SECOND]).number == 2
    one = services.save_version(template.id, editor.id, FIRST, [])
    assert one.number == 3 and one.bodies == [FIRST]


def test_the_audit_hash_covers_every_wording(editor, db):
    template = _create(editor)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "template_created"))
    expected = hashlib.sha256(json.dumps([FIRST, SECOND], ensure_ascii=False)
                              .encode()).hexdigest()
    assert event.content_sha256 == expected == template.latest_version.content_sha256
    assert event.after["variants"] == 2


@pytest.mark.parametrize("variants, field, message", [
    ((FIRST,), "variants-0", "措辞 2：与措辞 1相同"),
    ((SECOND, " "), "variants-1", "措辞 3：正文不能为空"),
    ((SECOND, "x" * 10_001), "variants-1", "正文不能超过"),
    (tuple(f"第{n}种措辞。" for n in range(MAX_VARIANTS)), "variants", "最多 5 种措辞"),
])
def test_bad_wordings_are_refused_per_field(editor, variants, field, message):
    with pytest.raises(ValidationFailed) as caught:
        _create(editor, variants=variants)
    assert message in caught.value.errors[field]


def test_approval_rehearses_every_wording(app, editor, reviewer, market, monkeypatch):
    monkeypatch.setitem(app.config, "BUSINESS_DATE", "2025-04-25")
    late = SECOND + '{% if date == "2025-04-29" %}{{ market.NOPE.close }}{% endif %}'
    template = _create(editor, variants=(late,))
    assert not any(f.is_blocking for f in template.latest_version.findings)  # sample is fine
    services.submit_for_review(template.id, editor.id)
    with pytest.raises(Conflict, match="2025-04-29 的预演渲染失败"):
        services.approve(template.id, reviewer.id)
    assert template.status is TemplateStatus.in_review
