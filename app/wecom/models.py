"""Tables of the WeCom client: the shared access-token cache and uploaded media ids."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import UtcDateTime
from app.core.extensions import db


class WeComAccessToken(db.Model):
    """The access token of one corp app, shared by every process (web, scheduler, CLI).

    ``cache_key`` is a SHA-256 digest of CorpID and secret (never the secret itself);
    ``access_token`` is opaque (WeCom: up to 512 bytes); ``expires_at`` is aware UTC.
    """

    __tablename__ = "wecom_access_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    cache_key: Mapped[str] = mapped_column(String(64), unique=True)
    access_token: Mapped[str] = mapped_column(Text, default="")
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class WeComMedia(db.Model):
    """A file uploaded to WeCom as temporary media (valid 3 days), per content digest and API.

    ``kind`` is ``upload`` (``media/upload``: mass messages) or ``attachment``
    (``media/upload_attachment``: Moments); ``uploaded_at`` is aware UTC by the client clock.
    """

    __tablename__ = "wecom_media"
    __table_args__ = (UniqueConstraint("content_sha256", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    content_sha256: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    media_id: Mapped[str] = mapped_column(String(256))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
