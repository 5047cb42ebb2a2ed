"""Appending to the audit log and verifying its hash chain.

Each entry's ``entry_sha256`` is the SHA-256 of the canonical JSON (sorted keys, UTF-8, no
spaces) of its id, UTC time (ISO 8601, microseconds), actor, action, object type, id and
version, content hash, ``before``, ``after`` and ``prev_sha256`` (the previous entry's hash,
:data:`~app.audit.models.GENESIS` for the first). Appends lock the chain head row
(``app.core.locks.lock_rows``), so concurrent writers line up and the chain never forks.
An edited row no longer matches its hash; a deleted row breaks the next entry's link (or,
for the last one, the head); :func:`verify` reports the first such break.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass

from sqlalchemy import select

from app.audit.models import GENESIS, AuditChainHead, AuditEvent
from app.core.clock import utcnow
from app.core.extensions import db
from app.core.locks import lock_rows

logger = logging.getLogger(__name__)
_VERIFY_BATCH = 1000


def entry_hash(event: AuditEvent) -> str:
    """Hex SHA-256 of the event's canonical JSON (see module docstring)."""
    occurred = event.occurred_at.astimezone(dt.UTC).isoformat(timespec="microseconds")
    payload = {
        "id": event.id, "occurred_at": occurred, "actor_id": event.actor_id,
        "action": event.action, "object_type": event.object_type,
        "object_id": event.object_id, "object_version": event.object_version,
        "content_sha256": event.content_sha256, "before": event.before, "after": event.after,
        "prev_sha256": event.prev_sha256,
    }
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record(actor_id: int | None, action: str, object_type: str, object_id: int | None, *,
           version: int | None = None, content_sha256: str | None = None,
           before: dict | None = None, after: dict | None = None) -> AuditEvent:
    """Append one entry to the audit log (flushes; the caller's unit of work commits).

    :param actor_id: the user who acted, or ``None`` for the system (scheduler, CLI).
    :param action: a key of ``app.audit.labels.ACTION_LABELS`` (e.g. ``template_approved``).
    :param object_type: ``template``, ``plan``, ``post``, ``user``, ``branch``, ``import``…
    :param object_id: the object's id.
    :param version: the object's version (a template version number) or ``None``.
    :param content_sha256: hash of the text concerned, or ``None``.
    :param before: audited fields before (JSON values; never secrets) or ``None``.
    :param after: audited fields after, or ``None``.
    :returns: the new event with its ``entry_sha256``.
    """
    lock_rows(db.session, AuditChainHead, AuditChainHead.id == 1)
    head = db.session.get(AuditChainHead, 1, populate_existing=True)
    if head is None:  # a database created without the migration's seed row
        head = AuditChainHead(id=1, last_event_id=None, last_sha256=GENESIS)
        db.session.add(head)
    event = AuditEvent(occurred_at=utcnow(), actor_id=actor_id, action=action,
                       object_type=object_type, object_id=object_id, object_version=version,
                       content_sha256=content_sha256, before=before, after=after,
                       prev_sha256=head.last_sha256, entry_sha256="")
    db.session.add(event)
    db.session.flush()
    event.entry_sha256 = entry_hash(event)
    head.last_event_id, head.last_sha256 = event.id, event.entry_sha256
    db.session.flush()
    logger.info("audit event_id=%s actor_id=%s action=%s %s_id=%s", event.id, actor_id, action,
                object_type, object_id)
    return event


@dataclass(frozen=True)
class Verification:
    """Outcome of :func:`verify`: entries checked and the first broken link, if any."""

    checked: int
    broken_id: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        """True when the whole chain holds."""
        return self.broken_id is None and not self.reason


def verify() -> Verification:
    """Walk the whole chain in id order and report the first broken link.

    :returns: :class:`Verification`; ``broken_id`` is the id of the first entry whose
        hash does not match its content (edited) or whose ``prev_sha256`` is not the
        previous entry's hash (an entry before it was deleted or edited); a chain whose
        head names another last entry (the last entries were deleted) is broken too.
    """
    previous, checked, last_id = GENESIS, 0, 0
    while True:
        batch = list(db.session.scalars(select(AuditEvent).where(AuditEvent.id > last_id)
                                        .order_by(AuditEvent.id).limit(_VERIFY_BATCH)))
        for event in batch:
            if event.prev_sha256 != previous:
                return Verification(checked, event.id,
                                    "与上一条记录的哈希不衔接（之前的记录被删除或修改）")
            if entry_hash(event) != event.entry_sha256:
                return Verification(checked, event.id, "记录内容与其哈希不符（记录被修改）")
            previous, last_id, checked = event.entry_sha256, event.id, checked + 1
        if len(batch) < _VERIFY_BATCH:
            break
    head = db.session.get(AuditChainHead, 1)
    head_hash = head.last_sha256 if head is not None else GENESIS
    if head_hash != previous:
        return Verification(checked, None,
                            "链头记录的最后一条哈希与日志末尾不符（末尾记录被删除）")
    return Verification(checked)
