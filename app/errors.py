"""Domain errors raised by services, and their HTTP mapping.

Services raise these; views and the handlers below turn them into responses:
``NotFound`` → 404, ``PermissionDenied`` → 403, ``Conflict`` → 409,
``ValidationFailed`` → 422 (with per-field or per-row ``errors``).
"""

from __future__ import annotations

import logging

from flask import jsonify, render_template, request
from werkzeug.exceptions import HTTPException

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
        from app.extensions import db

        db.session.rollback()
        return _render(error.status_code, error.message, error.errors)

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        return _render(error.code or 500, error.description or error.name)

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        from app.extensions import db

        db.session.rollback()
        logger.exception("unhandled error on %s %s", request.method, request.path)
        return _render(500, "服务器内部错误，请稍后再试")
