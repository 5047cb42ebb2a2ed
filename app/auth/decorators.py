"""View decorators that ask the permission policy (``app.auth.permissions``)."""

from __future__ import annotations

from functools import wraps

from flask_login import current_user, login_required

from app.auth.permissions import Action, require
from app.core.extensions import token_auth


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
