"""The WeCom 企业微信 connector: push SOP tasks, pull measured outcomes, receive callbacks.

Built on the client layer ``app.wecom``. Without WeCom credentials (manual mode) nothing
here calls WeCom; the callback URL answers 404 until its token and key are configured.
"""

from flask import Blueprint

bp = Blueprint("connector", __name__)

from app.connector import views  # noqa: E402,F401  (routes register on bp)
