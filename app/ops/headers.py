"""Security headers added to every response (pages, JSON, images, errors)."""

from __future__ import annotations

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
    """Add ``SECURITY_HEADERS`` to ``response`` without overriding a view's own value.

    :param response: the outgoing Flask response.
    :returns: the same response.
    """
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
