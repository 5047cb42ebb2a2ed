"""View decorators that ask the permission policy (``app.auth.permissions``)."""

from __future__ import annotations

from functools import wraps

from flask import current_app, request
from flask_login import current_user, login_required

from app.auth.permissions import Action, require
from app.core.extensions import csrf, token_auth


def permission_required(action: Action):
    """Require a logged-in user whom the policy allows ``action``.

    Anonymous users are redirected to login; others get 403.
    """

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            require(current_user, action)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def api_permission_required(action: Action):
    """Require a valid bearer token whose user the policy allows ``action``.

    No or bad token → 401 JSON; not allowed → 403 JSON.
    """

    def decorator(view):
        @wraps(view)
        @token_auth.login_required
        def wrapped(*args, **kwargs):
            require(token_auth.current_user(), action)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def api_or_session_permission_required(action: Action):
    """Require a bearer token, or else a browser session with a CSRF token, allowed ``action``.

    For the few API routes that pages call too (on a CSRF-exempt blueprint): a request with an
    ``Authorization`` header is authenticated by its token only (401 JSON when bad); without
    one, a logged-in session must send the CSRF token in ``X-CSRFToken`` (400 otherwise,
    Flask-WTF's check, unless ``WTF_CSRF_ENABLED`` is off as in tests) and anonymous
    callers get the token error (401 JSON). Not allowed: 403.
    """

    def decorator(view):
        by_token = api_permission_required(action)(view)

        @wraps(view)
        def wrapped(*args, **kwargs):
            if "Authorization" in request.headers or not current_user.is_authenticated:
                return by_token(*args, **kwargs)
            if current_app.config["WTF_CSRF_ENABLED"]:
                csrf.protect()
            require(current_user, action)
            return view(*args, **kwargs)

        return wrapped

    return decorator
