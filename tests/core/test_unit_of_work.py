"""One commit per unit of work: requests, CLI commands; a GET never writes.

These tests use their own app and SQLite file (not the per-test rollback fixture), so a
commit is a real commit and "nothing is stored" can be read back from the database.
"""

from __future__ import annotations

import click
import pytest
from flask import redirect
from sqlalchemy import select

from app.core.errors import Conflict
from app.core.extensions import db
from app.core.unit_of_work import command_unit_of_work, discard_changes
from app.factory import create_app
from app.org.models import Branch, BranchLevel
from config import TestConfig


def _add_branch(code: str) -> None:
    db.session.add(Branch(code=code, name=code, level=BranchLevel.hq, path="/"))
    db.session.flush()


@pytest.fixture
def uow_app(tmp_path):
    app = create_app(TestConfig(), SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'uow.db'}",
                     WTF_CSRF_ENABLED=False)

    def ok():
        _add_branch("ok")
        return "created", 201

    def refused():
        _add_branch("refused")
        return "bad input", 422

    def discarded():
        _add_branch("discarded")
        discard_changes()
        return redirect("/")

    def raises():
        _add_branch("raises")
        raise Conflict("冲突")

    def get_writes():
        _add_branch("get")
        return "wrote"

    for name, view, methods in (("ok", ok, ["POST"]), ("refused", refused, ["POST"]),
                                ("discarded", discarded, ["POST"]),
                                ("raises", raises, ["POST"]),
                                ("get_writes", get_writes, ["GET"])):
        app.add_url_rule(f"/uow/{name}", endpoint=f"uow_{name}", view_func=view, methods=methods)

    @app.cli.command("uow-add")
    @click.argument("code")
    @click.option("--exit-code", type=int, default=None)
    @click.pass_context
    @command_unit_of_work
    def uow_add(ctx, code, exit_code):
        _add_branch(code)
        if exit_code is not None:
            ctx.exit(exit_code)

    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.engine.dispose()


def _stored(app) -> set[str]:
    with app.app_context():
        codes = set(db.session.scalars(select(Branch.code)))
        db.session.remove()
        return codes


def test_a_successful_post_commits_once(uow_app):
    assert uow_app.test_client().post("/uow/ok").status_code == 201
    assert _stored(uow_app) == {"ok"}


@pytest.mark.parametrize(("path", "status"), [("/uow/refused", 422), ("/uow/discarded", 302),
                                              ("/uow/raises", 409)])
def test_a_failed_post_stores_nothing(uow_app, path, status):
    assert uow_app.test_client().post(path).status_code == status
    assert _stored(uow_app) == set()


def test_a_get_that_writes_is_refused_and_stores_nothing(uow_app):
    response = uow_app.test_client().get("/uow/get_writes")
    assert response.status_code == 500
    assert _stored(uow_app) == set()


@pytest.mark.parametrize(("args", "stored"), [([], {"cli"}), (["--exit-code", "0"], set()),
                                              (["--exit-code", "2"], set())])
def test_a_cli_command_commits_only_when_it_returns(uow_app, args, stored):
    result = uow_app.test_cli_runner().invoke(args=["uow-add", "cli", *args])
    assert result.exit_code == (int(args[1]) if args else 0)
    assert _stored(uow_app) == stored


def test_views_never_commit_or_roll_back_themselves():
    """The request handler is the one commit point (``app.core.unit_of_work``)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "app"
    offenders = [str(path.relative_to(root)) for path in root.rglob("*.py")
                 if path.name in ("views.py", "api.py")
                 and "session.commit(" in path.read_text(encoding="utf-8")]
    assert offenders == []
