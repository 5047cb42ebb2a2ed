"""Logging: one line per record, plain text (development) or JSON (production).

Every record logged while a request is handled carries ``request_id`` (the
``X-Request-ID`` a proxy sent, or a new one) and ``user_id`` (the signed-in or
token-authenticated user, ``None`` when anonymous), added by
:class:`RequestContextFilter`. Messages carry ids only: no passwords, tokens, cookies,
query strings, customer data or names are passed to loggers anywhere in the app
(``tests/security/test_secrets.py`` and ``tests/ops/test_logs.py`` check it).
"""

from __future__ import annotations

import logging

from flask import Flask, g, has_request_context
from pythonjsonlogger.json import JsonFormatter

#: Attribute marking the handler ``configure_logging`` installed (replaced on a re-configure).
_HANDLER_MARK = "_zhongtai_handler"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(user_id)s"


def current_user_id() -> int | None:
    """Id of the user this request authenticated, without loading anyone.

    Reads what Flask-Login (``g._login_user``) or Flask-HTTPAuth
    (``g.flask_httpauth_user``) already loaded, so logging never queries the database.

    :returns: the user id, or ``None`` outside a request or when anonymous.
    """
    if not has_request_context():
        return None
    for name in ("flask_httpauth_user", "_login_user"):
        user = g.get(name)
        user_id = getattr(user, "id", None) if user is not None else None
        if isinstance(user_id, int):
            return user_id
    return None


class RequestContextFilter(logging.Filter):
    """Add ``request_id`` and ``user_id`` to every record (``-``/``None`` outside requests)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Annotate ``record``; never drops it."""
        in_request = has_request_context()
        record.request_id = (g.get("request_id") if in_request else None) or "-"
        record.user_id = current_user_id()
        return True


def formatter(log_format: str) -> logging.Formatter:
    """The formatter for ``LOG_FORMAT``.

    :param log_format: ``"json"`` (one object per line: ``time``, ``level``, ``logger``,
        ``message``, ``request_id``, ``user_id`` and any ``extra=`` fields) or ``"text"``.
    :returns: a ``logging.Formatter``.
    :raises ValueError: for any other value.
    """
    if log_format == "json":
        return JsonFormatter(JSON_FIELDS, rename_fields={
            "asctime": "time", "levelname": "level", "name": "logger"},
            json_ensure_ascii=False)
    if log_format == "text":
        return logging.Formatter(TEXT_FORMAT)
    raise ValueError(f"LOG_FORMAT must be 'json' or 'text', not {log_format!r}")


def configure_logging(app: Flask) -> None:
    """Log the ``app`` logger tree to stderr at ``LOG_LEVEL`` in ``LOG_FORMAT``.

    Idempotent: a second app replaces the handler the first one installed.

    :raises ValueError: ``LOG_FORMAT`` is neither ``json`` nor ``text``.
    """
    level = getattr(logging, str(app.config.get("LOG_LEVEL", "INFO")).upper(), logging.INFO)
    root = logging.getLogger("app")
    root.setLevel(level)
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler()
    setattr(handler, _HANDLER_MARK, True)
    handler.setFormatter(formatter(str(app.config.get("LOG_FORMAT", "text"))))
    handler.addFilter(RequestContextFilter())
    root.addHandler(handler)
