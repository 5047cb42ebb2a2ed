"""Reading the audit log: filtered pages and the XLSX export (managers and admins)."""

from __future__ import annotations

import datetime as dt
import io
import math
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask import current_app
from openpyxl import Workbook
from sqlalchemy import and_, func, or_, select

from app.audit.labels import ACTION_LABELS, OBJECT_LABELS
from app.audit.models import AuditEvent
from app.auth.permissions import DataScope
from app.core.clock import to_local
from app.core.extensions import db
from app.core.spreadsheet import safe_cell
from app.org.models import Branch, User

PAGE_SIZE = 50
#: Most rows one export holds (a bank-size log is filtered first).
MAX_EXPORT_ROWS = 100_000


@dataclass(frozen=True)
class AuditFilter:
    """Filters of the audit page; every field optional. Dates are Asia/Shanghai days."""

    action: str | None = None
    object_type: str | None = None
    object_id: int | None = None
    actor_id: int | None = None
    from_date: dt.date | None = None
    to_date: dt.date | None = None

    def conditions(self, scope: DataScope) -> list:
        """SQL conditions of the filters that are set, within the reader's data scope.

        A manager reads every content event (templates are the whole bank's) but user and
        branch events only for the users and branches of their subtree.
        """
        out = [] if scope.is_whole_bank else [or_(
            AuditEvent.object_type.notin_(("user", "branch")),
            and_(AuditEvent.object_type == "user", AuditEvent.object_id.in_(
                select(User.id).join(Branch, User.branch_id == Branch.id)
                .where(scope.branch_clause()))),
            and_(AuditEvent.object_type == "branch", AuditEvent.object_id.in_(
                select(Branch.id).where(scope.branch_clause()))),
        )]
        if self.action:
            out.append(AuditEvent.action == self.action)
        if self.object_type:
            out.append(AuditEvent.object_type == self.object_type)
        if self.object_id is not None:
            out.append(AuditEvent.object_id == self.object_id)
        if self.actor_id is not None:
            out.append(AuditEvent.actor_id == self.actor_id)
        if self.from_date:
            out.append(AuditEvent.occurred_at >= _local_midnight(self.from_date))
        if self.to_date:
            out.append(AuditEvent.occurred_at < _local_midnight(self.to_date
                                                                 + dt.timedelta(days=1)))
        return out


def _local_midnight(day: dt.date) -> dt.datetime:
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    return dt.datetime.combine(day, dt.time(), zone).astimezone(dt.UTC)


@dataclass(frozen=True)
class Page:
    """One page of events, newest first."""

    items: list[AuditEvent]
    number: int
    pages: int
    total: int


def list_events(filters: AuditFilter, scope: DataScope, page: int = 1) -> Page:
    """One page of events matching ``filters`` within ``scope``, newest first.

    :param filters: the filters.
    :param scope: the reader's data scope (``app.auth.permissions.scope``).
    :param page: 1-based page number (clamped to the pages there are).
    :returns: :class:`Page` of :data:`PAGE_SIZE` events.
    """
    conditions = filters.conditions(scope)
    total = db.session.scalar(select(func.count(AuditEvent.id)).where(*conditions)) or 0
    pages = max(1, math.ceil(total / PAGE_SIZE))
    number = min(max(1, page), pages)
    items = list(db.session.scalars(
        select(AuditEvent).where(*conditions).order_by(AuditEvent.id.desc())
        .limit(PAGE_SIZE).offset((number - 1) * PAGE_SIZE)))
    return Page(items, number, pages, total)


_HEADER = ["序号", "时间（北京时间）", "操作人 ID", "操作", "对象类型", "对象 ID", "版本",
           "内容哈希", "变更前", "变更后", "上一条哈希", "本条哈希"]


def export_xlsx(filters: AuditFilter, scope: DataScope) -> bytes:
    """The events matching ``filters`` within ``scope`` as an XLSX workbook, oldest first.

    Text cells pass through ``safe_cell`` (a value starting with ``=``, ``+``, ``-``, ``@``
    opens as text) and are written as strings; ids stay numbers.

    :param filters: the filters.
    :param scope: the reader's data scope.
    :returns: XLSX bytes (one sheet 「审计日志」, at most :data:`MAX_EXPORT_ROWS` rows).
    """
    book = Workbook(write_only=True)
    sheet = book.create_sheet("审计日志")
    sheet.append(_HEADER)
    rows = db.session.scalars(select(AuditEvent).where(*filters.conditions(scope))
                              .order_by(AuditEvent.id).limit(MAX_EXPORT_ROWS))
    for event in rows:
        sheet.append([
            event.id, _text(to_local(event.occurred_at).strftime("%Y-%m-%d %H:%M:%S")),
            event.actor_id, _text(ACTION_LABELS.get(event.action, event.action)),
            _text(OBJECT_LABELS.get(event.object_type, event.object_type)), event.object_id,
            event.object_version, _text(event.content_sha256 or ""),
            _text(_fields(event.before)), _text(_fields(event.after)),
            _text(event.prev_sha256), _text(event.entry_sha256),
        ])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _fields(values: dict | None) -> str:
    return "；".join(f"{k}={v}" for k, v in sorted((values or {}).items()))


def _text(value: str) -> str:
    """A neutralised text cell, kept a string (openpyxl reads ``=…`` as a formula)."""
    return str(safe_cell(value))
