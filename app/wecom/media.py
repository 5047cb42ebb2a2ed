"""Chart images as WeCom temporary media: upload once, reuse for 3 days, re-upload after.

A ``media_id`` is valid 3 days (../shared/wecom-api.md §6). The id of each image is kept
per content digest and upload API in ``wecom_media``; an id older than
``MEDIA_REUSE_SECONDS`` is uploaded again, and an id WeCom refuses as expired (40007)
is uploaded again once and the call repeated.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import select

from app.core.extensions import db
from app.core.upserts import upsert_rows
from app.wecom import api
from app.wecom.client import WeComClient
from app.wecom.errors import MediaExpired
from app.wecom.models import WeComMedia

logger = logging.getLogger(__name__)
#: 3 days less an hour: never hand out an id that could expire during the call.
MEDIA_REUSE_SECONDS = 3 * 86400 - 3600
T = TypeVar("T")


def media_id_for(client: WeComClient, content: bytes, filename: str, *, attachment: bool,
                 force: bool = False) -> str:
    """The media id of ``content``, uploading it when none is fresh (or ``force``).

    :param attachment: Moments (``upload_attachment``) rather than mass-message media.
    :returns: a media id uploaded less than ``MEDIA_REUSE_SECONDS`` ago by the client clock.
    :raises WeComError: when the upload fails.
    """
    digest = hashlib.sha256(content).hexdigest()
    kind = "attachment" if attachment else "upload"
    now = client.now()
    row = db.session.scalars(select(WeComMedia).where(
        WeComMedia.content_sha256 == digest, WeComMedia.kind == kind)).first()
    if row is not None and not force and now - row.uploaded_at < dt.timedelta(
            seconds=MEDIA_REUSE_SECONDS):
        return row.media_id
    media_id = api.upload_media(client, content, filename, attachment=attachment)
    upsert_rows(WeComMedia.__table__, [{"content_sha256": digest, "kind": kind,
                                        "media_id": media_id, "uploaded_at": now}],
                keys=("content_sha256", "kind"), update=("media_id", "uploaded_at"))
    if row is not None:
        db.session.expire(row)
    logger.info("wecom media uploaded kind=%s sha256=%s", kind, digest[:12])
    return media_id


def with_media(client: WeComClient, content: bytes, filename: str, *, attachment: bool,
               use: Callable[[str], T]) -> T:
    """Call ``use(media_id)``; if WeCom says the id expired (40007), re-upload and call again.

    :returns: what ``use`` returns.
    :raises MediaExpired: if a freshly uploaded id is refused too.
    """
    media_id = media_id_for(client, content, filename, attachment=attachment)
    try:
        return use(media_id)
    except MediaExpired:
        logger.info("wecom media expired: uploading again")
        return use(media_id_for(client, content, filename, attachment=attachment, force=True))
