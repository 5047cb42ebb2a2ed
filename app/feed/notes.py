"""Personal notes 附言: a short text a front-line user adds after a post's approved text.

The note is checked by the compliance engine before it is saved, as CH-01 demands
(``app.compliance.check_sent``: the approved text unchanged, the note checked by the same
rules as the post, the channel's length limit on the whole text). A blocking finding refuses
it with the rule's message; warnings are returned to be shown. The task then records the
final text in ``tasks.body`` and its SHA-256 in ``body_sha256`` (``app.broadcasts.models.Task``);
copying and the API use that text. With WeCom connected, 群发 and 朋友圈 posts go to customers
as WeCom tasks created when the post is published, which a note could no longer change: notes
are then refused for those channels (客户群 posts are still sent by hand).
"""

from __future__ import annotations

import logging
import re

from app.broadcasts.models import NOTE_MAX_CHARS, NOTE_SEPARATOR, PostStatus, Task, TaskStatus
from app.compliance import Finding, blocking, check_sent, text_sha256
from app.content.models import WECOM_SENT_CHANNELS
from app.core.errors import Conflict, ValidationFailed
from app.core.extensions import db
from app.core.locks import lock_rows
from app.feed.services import get_own_task
from app.wecom.setup import wecom_enabled

logger = logging.getLogger(__name__)

#: Control characters (line breaks and tabs aside) and lone surrogates: never stored.
_BAD_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
#: The same rule as a JSON Schema pattern (``app.feed.openapi``).
NOTE_PATTERN = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$"


def clean_note(note: object) -> str | None:
    """The note as it would be stored: line breaks unified, stripped; ``None`` when empty.

    :param note: a string, or ``None`` for no note.
    :returns: the cleaned note or ``None``.
    :raises ValidationFailed: not a string, longer than ``NOTE_MAX_CHARS`` characters as
        given, or with control characters other than line breaks and tabs.
    """
    if note is None:
        return None
    if not isinstance(note, str):
        raise ValidationFailed("附言无效", {"note": "附言须为文字"})
    if len(note) > NOTE_MAX_CHARS:
        raise ValidationFailed("附言无效", {"note": f"附言最多 {NOTE_MAX_CHARS} 字"})
    if _BAD_CHARS.search(note):
        raise ValidationFailed("附言无效", {"note": "附言含有不可见的控制字符"})
    return note.replace("\r\n", "\n").replace("\r", "\n").strip() or None


def set_note(task_id: int, staff_id: int, note: object) -> tuple[Task, list[Finding]]:
    """Add, change or remove (``None`` or blank) the personal note of the staff member's task.

    Idempotent: the same note again changes nothing.

    :param task_id: the task.
    :param staff_id: the acting front-line user; must own the task.
    :param note: the note text (see :func:`clean_note`) or ``None`` to remove it.
    :returns: the task (``text`` is the final text, ``body_sha256`` its hash) and the
        non-blocking findings of the note (warnings to show), offsets into the final text.
    :raises NotFound: unknown task or another user's task.
    :raises Conflict: the post was withdrawn, the task is done (the text was sent), or WeCom
        sends this channel's posts itself (see the module docstring).
    :raises ValidationFailed: a bad note, or one with blocking findings (``errors["note"]``
        holds their rule ids and messages).
    """
    note = clean_note(note)
    task = get_own_task(task_id, staff_id)
    lock_rows(db.session, Task, Task.id == task.id)  # then judge what is current
    db.session.refresh(task)
    db.session.refresh(task.post)
    if task.post.status is not PostStatus.published:
        raise Conflict("该内容已撤回，无需发送")
    if task.status is TaskStatus.done:
        raise Conflict("任务已完成，附言不能再修改")
    plan = task.post.sop_plan
    if plan.channel in WECOM_SENT_CHANNELS and wecom_enabled():
        raise Conflict("该内容由企业微信直接下发给客户，无法附加附言")
    approved = task.approved_text
    final = approved if note is None else approved + NOTE_SEPARATOR + note
    findings = check_sent(approved, final, plan.template.product.value,
                          content_kind=plan.template.content_kind.value,
                          channel=plan.channel.value)
    refused = blocking(findings)
    if refused:
        raise ValidationFailed("附言未通过合规检查，未保存", {"note": "；".join(
            f"{f.rule_id} {f.message}" for f in refused)})
    if note != task.note:
        shared = note is None and task.shares_post_text
        task.note = note
        task.body = None if shared else final
        task.body_sha256 = None if shared else text_sha256(final)
        db.session.flush()
        logger.info("task note set task_id=%s staff_id=%s chars=%s", task.id, staff_id,
                    len(note or ""))
    return task, findings
