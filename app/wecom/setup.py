"""The app's WeCom client, built once per app from config (``WECOM_*`` settings)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from zoneinfo import ZoneInfo

import redis
from flask import Flask, current_app

from app.core.extensions import db
from app.wecom.client import WeComClient
from app.wecom.crypto import CallbackCrypto
from app.wecom.tokens import DatabaseTokenStore, RedisTokenStore

_CLIENT_KEY = "wecom.client"


def wecom_enabled(app: Flask | None = None) -> bool:
    """Whether WeCom credentials are configured; without them the product is in manual mode."""
    config = (app or current_app).config
    return bool(config.get("WECOM_CORP_ID") and config.get("WECOM_SECRET"))


def wecom_client(app: Flask | None = None) -> WeComClient:
    """The app's client (created on first use; tests may put their own in ``app.extensions``).

    :raises RuntimeError: in manual mode (no ``WECOM_CORP_ID`` / ``WECOM_SECRET``).
    """
    app = app or current_app._get_current_object()
    client = app.extensions.get(_CLIENT_KEY)
    if client is None:
        if not wecom_enabled(app):
            raise RuntimeError("WeCom is not configured (manual mode)")
        config = app.config
        if config.get("WECOM_TOKEN_REDIS_URL"):
            store = RedisTokenStore(redis.Redis.from_url(config["WECOM_TOKEN_REDIS_URL"]))
        else:
            store = DatabaseTokenStore(db.engine)
        client = WeComClient(base_url=config["WECOM_API_BASE"], corp_id=config["WECOM_CORP_ID"],
                             secret=config["WECOM_SECRET"], token_store=store,
                             timeout_seconds=config["WECOM_TIMEOUT_SECONDS"],
                             clock=business_clock(app))
        app.extensions[_CLIENT_KEY] = client
    return client


def use_client(app: Flask, client: WeComClient) -> None:
    """Make ``client`` the app's WeCom client (tests, the demo's fake server)."""
    app.extensions[_CLIENT_KEY] = client


def callback_crypto(app: Flask | None = None) -> CallbackCrypto | None:
    """Crypto of the callback URL, or ``None`` when token or AES key is not configured.

    :raises ValueError: if ``WECOM_CALLBACK_AES_KEY`` is not a 43-character key.
    """
    config = (app or current_app).config
    if not (config.get("WECOM_CALLBACK_TOKEN") and config.get("WECOM_CALLBACK_AES_KEY")
            and config.get("WECOM_CORP_ID")):
        return None
    return CallbackCrypto(config["WECOM_CALLBACK_TOKEN"], config["WECOM_CALLBACK_AES_KEY"],
                          config["WECOM_CORP_ID"])


def business_clock(app: Flask) -> Callable[[], float]:
    """The WeCom client's clock (Unix seconds): real time, or the pinned business date.

    With ``BUSINESS_DATE`` pinned (demos on the snapshot) it is that date at the current
    wall-clock time in ``TIMEZONE``, as ``app.core.clock.business_now``.
    """
    pinned = app.config.get("BUSINESS_DATE")
    if not pinned:
        return time.time
    day, zone = dt.date.fromisoformat(str(pinned)), ZoneInfo(app.config["TIMEZONE"])

    def pinned_clock() -> float:
        return dt.datetime.combine(day, dt.datetime.now(zone).timetz()).timestamp()

    return pinned_clock
