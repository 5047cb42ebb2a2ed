"""Migrations: one head, models match the schema, and a clean downgrade/upgrade round trip."""

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect

from app import create_app
from app.core.extensions import db as _db
from config import TestConfig

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


def _script(app):
    return ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config(
        str(MIGRATIONS)))


def test_single_head(app):
    with app.app_context():
        assert len(_script(app).get_heads()) == 1


def test_models_match_the_migrated_schema(app):
    with app.app_context(), _db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True})
        diff = [d for d in compare_metadata(context, _db.metadata)
                if not (d[0] == "remove_table" and d[1].name == "apscheduler_jobs")]
    assert diff == []


def test_revision_files_follow_the_naming_template():
    names = [p.name for p in (MIGRATIONS / "versions").glob("*.py")]
    assert names
    for name in names:
        assert name[:8].isdigit() and name[8] == "_" and name[9:13].isdigit(), name


def test_downgrade_to_base_and_back(tmp_path):
    url = f"sqlite:///{tmp_path / 'roundtrip.sqlite3'}"
    app = create_app(TestConfig(), SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade()
        engine = create_engine(url)
        assert "tasks" in inspect(engine).get_table_names()
        downgrade(revision="base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert "interaction_events" in inspect(engine).get_table_names()
        engine.dispose()
        _db.engine.dispose()


@pytest.mark.parametrize("command", [["db", "heads"], ["db", "current"]])
def test_flask_db_commands_run(runner, command):
    result = runner.invoke(args=command)
    assert result.exit_code == 0, result.output
