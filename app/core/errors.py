"""Domain errors raised by services, and their HTTP mapping.

Services raise these; views and the handlers below turn them into responses:
``NotFound`` → 404, ``PermissionDenied`` → 403, ``Conflict`` → 409,
``ValidationFailed`` → 422 (with per-field or per-row ``errors``).
"""

from __future__ import annotations

import logging

from flask import jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.core.extensions import db

logger = logging.getLogger(__name__)


class DomainError(Exception):
    """Base class of every error a service raises on purpose."""

    status_code = 400

    def __init__(self, message: str, errors: dict | list | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors


class NotFound(DomainError):
    """The requested row does not exist or lies outside the caller's data scope."""

    status_code = 404


class PermissionDenied(DomainError):
    """The caller's role does not allow the action."""

    status_code = 403


class Conflict(DomainError):
    """The action conflicts with the current state (e.g. approving one's own template)."""

    status_code = 409


class ValidationFailed(DomainError):
    """Input is invalid; ``errors`` maps fields (or row numbers) to messages."""

    status_code = 422


#: Chinese text for HTTP errors that carry only werkzeug's English default description.
HTTP_MESSAGES = {
    400: "请求无效，请检查后重试",
    401: "请先登录",
    403: "无权访问此页面",
    404: "页面不存在",
    405: "不支持该请求方式",
    413: "请求内容过大",
    429: "操作过于频繁，请稍后再试",
}
CSRF_MESSAGE = "页面已过期或缺少安全令牌，请刷新页面后重试"


def http_error_message(error: HTTPException) -> str:
    """Chinese message for an HTTP error, safe to show.

    A description set on purpose (e.g. ``BadRequest("请求体不是有效的 JSON")``) is kept;
    werkzeug's English defaults, Flask-WTF's CSRF errors and Flask-Limiter's limit
    string (``"10 per 1 minute"``) are replaced by text from ``HTTP_MESSAGES``.
    """
    if isinstance(error, CSRFError):
        return CSRF_MESSAGE
    code = error.code or 500
    if code == 429 or not error.description or error.description == type(error).description:
        return HTTP_MESSAGES.get(code, error.name)
    return error.description


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _render(status: int, message: str, errors=None):
    if _wants_json():
        body = {"error": message}
        if errors:
            body["errors"] = errors
        return jsonify(body), status
    return render_template("errors/error.html", status=status, message=message), status


def register_error_handlers(app) -> None:
    """Map domain errors and HTTP errors to HTML pages or JSON bodies."""

    @app.errorhandler(DomainError)
    def handle_domain_error(error: DomainError):
        # Roll back before rendering: the page reads the stored state, never the half-done
        # change (the request's unit of work rolls back too, as the status is >= 400).
        db.session.rollback()
        return _render(error.status_code, error.message, error.errors)

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        response = make_response(_render(error.code or 500, http_error_message(error)))
        for name, value in error.get_headers():  # keeps Allow (405), WWW-Authenticate (401)
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        db.session.rollback()  # a failed flush or commit leaves the session unusable
        logger.exception("unhandled error on %s %s", request.method, request.path)
        return _render(500, "服务器内部错误，请稍后再试")
