"""Security headers added to every response (pages, JSON, images, errors)."""

from __future__ import annotations

from flask import current_app

from app.ops import bp

#: Set unless a view already chose a value. CSP only restricts framing, plugins, ``<base>``
#: and form targets, so inline scripts on the 今日任务 page keep working.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "frame-ancestors 'none'; object-src 'none'; base-uri 'self'; form-action 'self'"
    ),
}


@bp.after_app_request
def set_security_headers(response):
    """Add ``SECURITY_HEADERS`` (and HSTS when configured) without overriding a view's value.

    ``Strict-Transport-Security: max-age=<HSTS_MAX_AGE_SECONDS>`` is sent when that setting
    is above 0, which ``ProductionConfig`` does (one year); development and tests send none.

    :param response: the outgoing Flask response.
    :returns: the same response.
    """
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    max_age = current_app.config.get("HSTS_MAX_AGE_SECONDS") or 0
    if max_age > 0:  # production only (``ProductionConfig``): browsers then refuse plain HTTP
        response.headers.setdefault("Strict-Transport-Security", f"max-age={max_age}")
    return response
