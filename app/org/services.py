"""Organisation rules: branch paths; no demo accounts in production.

Who may read which branches is ``app.auth.permissions.scope``.
"""

from __future__ import annotations

import re

from sqlalchemy import ColumnElement, inspect, select

from app.core.extensions import db
from app.org.models import Branch, User

_PATH = re.compile(r"/(?:[0-9]+/)*")


def in_subtree(path: str) -> ColumnElement[bool]:
    """SQL condition: the branch lies in the subtree whose root has materialised ``path``.

    Renders ``branches.path LIKE '<path>%'`` with the whole pattern as one bound value,
    which PostgreSQL answers from ``ix_branches_path`` (``text_pattern_ops``, so under
    any collation). SQLite's case-insensitive LIKE cannot use that index and scans the
    small table. Every subtree query goes through here.

    :param path: a branch's ``path``, e.g. ``/1/3/`` (the root itself matches too).
    :returns: a boolean clause on ``Branch.path`` for ``.where()``.
    :raises ValueError: ``path`` is not of the form ``/<id>/…/`` (no LIKE wildcards).
    """
    if not _PATH.fullmatch(path):
        raise ValueError(f"not a branch path: {path!r}")
    return Branch.path.like(f"{path}%")



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
