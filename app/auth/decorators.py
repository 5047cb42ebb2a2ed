"""View decorators for role checks on top of Flask-Login."""

from __future__ import annotations

from functools import wraps

from flask_login import current_user, login_required

from app.auth.services import require_role
from app.org.models import Role


def roles_required(*roles: Role):
    """Require a logged-in user with one of ``roles`` (admin always passes).

    Anonymous users are redirected to login; others get 403.
    """

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            require_role(current_user, *roles)
            return view(*args, **kwargs)

        return wrapped

    return decorator
