"""Branch subtrees: one materialised-path condition, indexable on PostgreSQL."""

import pytest
from sqlalchemy import event, select

from app.core.extensions import db as _db
from app.org.models import Branch, BranchLevel
from app.org.services import branch_tree, in_subtree, tree_order
from tests.factories import BranchFactory


@pytest.fixture
def tree(db):
    """HQ with two branches; the first has one sub-branch."""
    hq = BranchFactory(level=BranchLevel.hq)
    east = BranchFactory(level=BranchLevel.branch, parent=hq)
    east_sub = BranchFactory(parent=east)
    west = BranchFactory(level=BranchLevel.branch, parent=hq)
    return hq, east, east_sub, west


def subtree_branch_ids(branch: Branch) -> list[int]:
    return list(_db.session.scalars(select(Branch.id).where(in_subtree(branch.path))))


def test_subtree_is_the_branch_and_everything_below_it(tree):
    hq, east, east_sub, west = tree
    assert sorted(subtree_branch_ids(east)) == [east.id, east_sub.id]
    assert sorted(subtree_branch_ids(hq)) == sorted(b.id for b in tree)
    assert subtree_branch_ids(west) == [west.id]


def test_tree_order_is_depth_first_with_sibling_ids_compared_as_numbers():
    def at(path):
        return Branch(code=path, name=path, level=BranchLevel.branch, path=path)

    # As text, /1/10/ < /1/9/ and /1/2/ < /1/23/ < /1/2/5/ under some collations.
    paths = ["/1/10/", "/1/9/14/", "/1/", "/1/23/", "/1/2/5/", "/1/9/", "/1/2/"]
    assert [b.path for b in tree_order(map(at, paths))] == [
        "/1/", "/1/2/", "/1/2/5/", "/1/9/", "/1/9/14/", "/1/10/", "/1/23/"]


def test_branch_tree_lists_every_branch_depth_first(tree):
    hq, east, east_sub, west = tree
    assert branch_tree() == [hq, east, east_sub, west]


@pytest.mark.parametrize("path", ["", "1/", "/1", "/1//", "/1/%", "/_/", "/1/2/' OR '1"])
def test_in_subtree_refuses_anything_but_a_branch_path(path):
    with pytest.raises(ValueError):
        in_subtree(path)


def test_subtree_query_uses_the_pattern_index_on_postgresql(db, tree):
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        pytest.skip("operator classes and EXPLAIN output are PostgreSQL's")
    seen = []

    def capture(_conn, _cursor, statement, parameters, _context, _executemany):
        if "branches.path LIKE" in statement:
            seen.append((statement, parameters))

    event.listen(connection, "before_cursor_execute", capture)
    try:
        subtree_branch_ids(tree[1])
    finally:
        event.remove(connection, "before_cursor_execute", capture)
    [(statement, parameters)] = seen
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")  # the table is tiny
    plan = "\n".join(connection.exec_driver_sql(f"EXPLAIN {statement}", parameters).scalars())
    assert "ix_branches_path" in plan, plan
    # ~>=~ and ~<~ are text_pattern_ops' operators: the LIKE prefix became an index range
    # that holds under any collation, not only "C"
    assert "~>=~" in plan and "~<~" in plan, plan
