"""Wordings 措辞 of a template version: the body (variant 0) and up to four more.

A template may say the same thing in several wordings so that the staff of one sub-branch do
not all post identical text (who gets which: ``app.broadcasts.variants``). Every wording is
checked for compliance on its own, with its own findings (``ComplianceFinding.variant``);
one blocking finding in any wording blocks submission and approval, and an approval
rehearses every wording.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from app.content.models import TemplateVariant, TemplateVersion
from app.core.errors import ValidationFailed
from app.core.extensions import db

#: Most wordings of one version, the body included.
MAX_VARIANTS = 5
MAX_BODY_CHARS = 10_000


def variant_label(variant: int) -> str:
    """Chinese label of a wording: 「措辞 1」 for variant 0 (the body), 「措辞 2」 …."""
    return f"措辞 {variant + 1}"


def body_error(body: str | None) -> str | None:
    """Chinese reason why ``body`` cannot be saved (empty or too long), else ``None``."""
    if not body or not body.strip():
        return "正文不能为空"
    if len(body) > MAX_BODY_CHARS:
        return f"正文不能超过 {MAX_BODY_CHARS} 字"
    return None


def validated_bodies(body: str, variants: Sequence[str]) -> list[str]:
    """Every wording of a version to save, the body first.

    :param body: variant 0.
    :param variants: the further wordings, in order (blank ones are an error, not dropped).
    :returns: ``[body, *variants]``.
    :raises ValidationFailed: per field (``body``, ``variants-<i>`` counting the further
        wordings from 0 as the form does): empty, too long, more than :data:`MAX_VARIANTS`,
        or a wording identical to an earlier one.
    """
    bodies = [body, *variants]
    errors: dict[str, str] = {}
    if len(bodies) > MAX_VARIANTS:
        errors["variants"] = f"最多 {MAX_VARIANTS} 种措辞"
    for index, text in enumerate(bodies):
        field = "body" if index == 0 else f"variants-{index - 1}"
        problem = body_error(text)
        if problem is None and text in bodies[:index]:
            problem = f"与{variant_label(bodies.index(text))}相同，请改写或删除"
        if problem:
            errors[field] = problem if index == 0 else f"{variant_label(index)}：{problem}"
    if errors:
        raise ValidationFailed("输入有误", errors)
    return bodies


def add_variants(version: TemplateVersion, bodies: Sequence[str]) -> None:
    """Store the further wordings (``bodies[1:]``) of a flushed version. Flushes.

    :param bodies: every wording, variant 0 first (variant 0 is ``version.body``).
    """
    for number, text in enumerate(bodies[1:], start=1):
        db.session.add(TemplateVariant(
            version_id=version.id, variant=number, body=text,
            body_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest()))
    db.session.flush()
