"""Read-only queries for the content pages (templates with versions and findings)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.content.models import ContentTemplate, TemplateStatus, TemplateVersion
from app.core.errors import NotFound
from app.core.extensions import db


def list_templates(status: TemplateStatus | None = None) -> list[ContentTemplate]:
    """Templates, most recently edited first, with versions and findings preloaded.

    :param status: only templates in this status (``None``: all).
    """
    query = (
        select(ContentTemplate)
        .options(selectinload(ContentTemplate.versions).selectinload(TemplateVersion.findings),
                 selectinload(ContentTemplate.versions).selectinload(TemplateVersion.author))
        .order_by(ContentTemplate.updated_at.desc(), ContentTemplate.id.desc())
    )
    if status is not None:
        query = query.where(ContentTemplate.status == status)
    return list(db.session.scalars(query))


def get_version(template_id: int, number: int) -> TemplateVersion:
    """Version ``number`` of a template.

    :raises NotFound: no such template or version.
    """
    version = db.session.scalar(select(TemplateVersion).where(
        TemplateVersion.template_id == template_id, TemplateVersion.number == number))
    if version is None:
        raise NotFound("版本不存在")
    return version

