"""The shipped template library 内容模板库 (``content_templates/library.toml`` + ``*.j2``)."""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from app.content import services
from app.content.models import ContentTemplate
from app.core.errors import Conflict, ValidationFailed
from app.core.extensions import db

logger = logging.getLogger(__name__)

MANIFEST = "library.toml"
_REQUIRED = ("slug", "title", "product", "channel", "file")


@dataclass(frozen=True)
class LibraryEntry:
    """One template of the library: manifest fields plus the body read from ``file``."""

    slug: str
    title: str
    product: str
    channel: str
    content_kind: str | None
    chart_spec: str | None
    file: str
    body: str
    #: Further wordings of the body (``variants = ["file", …]`` in the manifest).
    variants: tuple[str, ...] = ()


def load_library(directory: str | Path) -> list[LibraryEntry]:
    """Read the manifest and the body files of a template library.

    :param directory: folder holding ``library.toml`` and the ``*.j2`` bodies.
    :returns: entries in manifest order (bodies as UTF-8 text).
    :raises ValidationFailed: with per-entry messages for missing keys, a duplicate
        slug, or a ``file`` (or a ``variants`` file) outside the folder or not readable.
    """
    root = Path(directory).resolve()
    manifest = tomllib.loads((root / MANIFEST).read_text(encoding="utf-8"))
    entries, errors, seen = [], {}, set()
    for index, raw in enumerate(manifest.get("templates", []), start=1):
        missing = [key for key in _REQUIRED if not raw.get(key)]
        files = [str(raw.get("file", "")), *map(str, raw.get("variants", []))]
        paths = [(root / name).resolve() for name in files]
        unreadable = [name for name, path in zip(files, paths, strict=True)
                      if not path.is_relative_to(root) or not path.is_file()]
        if missing:
            errors[index] = f"缺少字段：{', '.join(missing)}"
        elif raw["slug"] in seen:
            errors[index] = f"重复的标识 {raw['slug']}"
        elif unreadable:
            errors[index] = f"找不到正文文件 {unreadable[0]}"
        else:
            seen.add(raw["slug"])
            body, *variants = (path.read_text(encoding="utf-8") for path in paths)
            entries.append(LibraryEntry(
                slug=raw["slug"], title=raw["title"], product=raw["product"],
                content_kind=raw.get("content_kind"),
                channel=raw["channel"], chart_spec=raw.get("chart_spec") or None,
                file=raw["file"], body=body, variants=tuple(variants),
            ))
    if errors:
        raise ValidationFailed("模板库清单有误", errors)
    return entries


def install_library(
    author_id: int, reviewer_id: int, directory: str | Path | None = None
) -> list[ContentTemplate]:
    """Create, check, submit and approve every library template not installed yet.

    Idempotent by slug: an existing template with the same slug is returned as it is
    (never overwritten). New ones get version 1 by ``author_id`` (compliance findings
    on the body and a sample rendering with stored market data), are submitted, and
    approved by ``reviewer_id`` (four-eyes: must differ from the author). Flushes only.

    :param author_id: an editor (or admin).
    :param reviewer_id: a reviewer (or admin), not the author.
    :param directory: library folder; default ``CONTENT_TEMPLATE_DIR``.
    :returns: the library's templates in manifest order.
    :raises Conflict: a template has a blocking finding or the reviewer is the author.
    """
    folder = directory or current_app.config["CONTENT_TEMPLATE_DIR"]
    templates = []
    for entry in load_library(folder):
        existing = db.session.scalar(
            select(ContentTemplate).where(ContentTemplate.slug == entry.slug))
        if existing is not None:
            templates.append(existing)
            continue
        templates.append(_install(entry, author_id, reviewer_id))
    return templates


def _install(entry: LibraryEntry, author_id: int, reviewer_id: int) -> ContentTemplate:
    template = services.create_template(
        author_id, entry.slug, entry.title, entry.product, entry.channel, entry.chart_spec,
        entry.body, content_kind=entry.content_kind, variants=entry.variants,
    )
    blocking = [f.rule_id for f in template.latest_version.findings if f.is_blocking]
    if blocking:
        raise Conflict(f"模板库 {entry.slug} 未通过合规检查：{'、'.join(blocking)}")
    services.submit_for_review(template.id, author_id)
    services.approve(template.id, reviewer_id, "模板库内置模板")
    logger.info("library template %s installed as template_id=%s", entry.slug, template.id)
    return template
