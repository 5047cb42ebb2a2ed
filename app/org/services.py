"""Organisation rules: branch paths; no demo accounts in production.

Who may read which branches is ``app.auth.permissions.scope``.
"""

from __future__ import annotations

from sqlalchemy import inspect, select

from app.core.extensions import db
from app.org.models import Branch, User


def set_branch_path(branch: Branch) -> None:
    """Fill ``branch.path`` from its parent (flushes to obtain the id)."""
    db.session.flush()
    parent_path = branch.parent.path if branch.parent is not None else "/"
    branch.path = f"{parent_path}{branch.id}/"


def refuse_demo_accounts(app) -> None:
    """Raise at boot when demo accounts exist and the config does not allow them.

    :raises RuntimeError: production with ``is_demo`` users present.
    """
    if app.config.get("ALLOW_DEMO_ACCOUNTS"):
        return

    with app.app_context():
        if not inspect(db.engine).has_table("users"):
            return
        has_demo = db.session.scalar(select(User.id).where(User.is_demo.is_(True)).limit(1))
        db.session.remove()
    if has_demo is not None:
        raise RuntimeError("demo accounts are present; remove them before running production")
