"""Organisation rules: the branch tree and its paths; no demo accounts in production.

Who may read which branches is ``app.auth.permissions.scope``. Who may change the tree is
the administration package (``app.admin``), which also records each change.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import ColumnElement, String, func, inspect, literal, select, update

from app.core.errors import NotFound, ValidationFailed
from app.core.extensions import db
from app.org.models import Branch, BranchLevel, User

#: Depth of each level: a branch's parent sits at a smaller rank (总行 > 分行 > 支行).
LEVEL_RANK = {BranchLevel.hq: 0, BranchLevel.branch: 1, BranchLevel.sub_branch: 2}

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
    return Branch.path.like(subtree_pattern(path))


def subtree_pattern(path: str) -> str:
    """The LIKE pattern of the subtree under ``path`` (``/1/3/`` → ``/1/3/%``).

    For statements built once with a bound parameter in place of :func:`in_subtree`'s
    value (``Branch.path.like(bindparam(...))``).

    :raises ValueError: ``path`` is not of the form ``/<id>/…/`` (no LIKE wildcards).
    """
    if not _PATH.fullmatch(path):
        raise ValueError(f"not a branch path: {path!r}")
    return f"{path}%"



def set_branch_path(branch: Branch) -> None:
    """Fill ``branch.path`` from its parent (flushes to obtain the id)."""
    db.session.flush()
    parent_path = branch.parent.path if branch.parent is not None else "/"
    branch.path = f"{parent_path}{branch.id}/"


def get_branch(branch_id: int | None) -> Branch:
    """The branch with this id.

    :raises NotFound: no such branch.
    """
    branch = db.session.get(Branch, branch_id) if branch_id is not None else None
    if branch is None:
        raise NotFound("机构不存在")
    return branch


def path_ids(path: str) -> list[int]:
    """The branch ids of a materialised ``path``, root first: ``/1/3/7/`` → ``[1, 3, 7]``.

    As a sort key it orders branches depth-first (a subtree follows its root), siblings by
    id, so ``/1/9/`` comes before ``/1/10/`` whatever the database's collation (``ORDER BY
    path`` compares text).
    """
    return [int(part) for part in path.split("/")[1:-1]]


def tree_order(branches: Iterable[Branch]) -> list[Branch]:
    """``branches`` depth-first, siblings by id (creation order): sorted on ``path_ids``."""
    return sorted(branches, key=lambda branch: path_ids(branch.path))


def branch_tree() -> list[Branch]:
    """Every branch in ``tree_order``."""
    return tree_order(db.session.scalars(select(Branch)))


def create_branch(code: str, name: str, level: BranchLevel, parent_id: int | None) -> Branch:
    """Add a branch under ``parent_id`` (``None`` only for a head office 总行).

    :raises ValidationFailed: duplicate ``code``, or a parent that does not fit the level.
    """
    parent = get_branch(parent_id) if parent_id is not None else None
    _check_code_free(code, None)
    _check_parent(level, parent)
    branch = Branch(code=code, name=name, level=level, parent=parent,
                    province_code=parent.province_code if parent is not None else None)
    db.session.add(branch)
    set_branch_path(branch)
    return branch


def update_branch(branch: Branch, code: str, name: str, level: BranchLevel,
                  parent_id: int | None) -> None:
    """Rename, re-level or move ``branch``; a move rewrites the paths of its whole subtree.

    :raises ValidationFailed: duplicate code, a parent inside the branch's own subtree, or
        levels out of order with the new parent or the branch's children.
    """
    parent = get_branch(parent_id) if parent_id is not None else None
    _check_code_free(code, branch.id)
    if parent is not None and parent.path.startswith(branch.path):
        raise ValidationFailed("不能移动到自身或其下级机构之下",
                               errors={"parent_id": ["不能移动到自身或其下级机构之下"]})
    _check_parent(level, parent)
    child_ranks = db.session.scalars(select(Branch.level).where(Branch.parent_id == branch.id))
    if any(LEVEL_RANK[child] <= LEVEL_RANK[level] for child in child_ranks):
        raise ValidationFailed("下级机构的层级必须低于本机构",
                               errors={"level": ["下级机构的层级必须低于本机构"]})
    branch.code, branch.name, branch.level = code, name, level
    if parent_id != branch.parent_id:
        _move(branch, parent)


def _check_code_free(code: str, branch_id: int | None) -> None:
    taken = db.session.scalar(select(Branch.id).where(Branch.code == code))
    if taken is not None and taken != branch_id:
        raise ValidationFailed("机构代码已存在", errors={"code": ["机构代码已存在"]})


def _check_parent(level: BranchLevel, parent: Branch | None) -> None:
    if parent is None and level is not BranchLevel.hq:
        raise ValidationFailed("请选择上级机构", errors={"parent_id": ["请选择上级机构"]})
    if parent is not None and LEVEL_RANK[parent.level] >= LEVEL_RANK[level]:
        message = "上级机构的层级必须高于本机构（总行 > 分行 > 支行）"
        raise ValidationFailed(message, errors={"parent_id": [message]})


def _move(branch: Branch, parent: Branch | None) -> None:
    """Re-parent ``branch`` and rewrite the path prefix of its subtree in one UPDATE."""
    old_prefix = branch.path
    new_prefix = f"{parent.path if parent is not None else '/'}{branch.id}/"
    branch.parent = parent
    db.session.execute(
        update(Branch)
        .where(in_subtree(old_prefix))
        .values(path=literal(new_prefix, String) + func.substr(Branch.path, len(old_prefix) + 1))
        .execution_options(synchronize_session="fetch"))


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
            db.engine.dispose()  # the app will not start: close its pooled connection
    if has_demo is not None:
        raise RuntimeError("demo accounts are present; remove them before running production")
