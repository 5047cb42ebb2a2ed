"""Revision ae713a0fc194: existing users keep their sessions and passwords; CHECKs hold."""

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import IntegrityError

from app.core.extensions import db as _db
from app.factory import create_app
from config import TestConfig

BEFORE, AFTER = "65bca8b170dc", "ae713a0fc194"


def test_existing_users_get_version_zero_and_no_forced_change(tmp_path):
    url = f"sqlite:///{tmp_path / 'auth.sqlite3'}"
    app = create_app(TestConfig(), SQLALCHEMY_DATABASE_URI=url)
    engine = create_engine(url)
    with app.app_context():
        upgrade(revision=BEFORE)
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO branches (id, code, name, level, path) "
                "VALUES (1, 'HQ', '总行', 'hq', '/1/')"))
            connection.execute(text(
                "INSERT INTO users (id, username, display_name, password_hash, role, branch_id, "
                "is_active_account, is_demo, created_at) VALUES (1, 'old', '老用户', 'h', "
                "'frontline', 1, 1, 0, '2025-01-01 00:00:00')"))
        upgrade(revision=AFTER)
        with engine.connect() as connection:
            row = connection.execute(text(
                "SELECT session_version, must_change_password, wecom_userid FROM users")).one()
            assert tuple(row) == (0, 0, None)
            with pytest.raises(IntegrityError):
                connection.execute(text("UPDATE users SET session_version = -1"))
            connection.rollback()
            with pytest.raises(IntegrityError):
                connection.execute(text(
                    "INSERT INTO login_throttles (username, failure_count, window_started_at) "
                    "VALUES ('x', -1, '2025-01-01 00:00:00')"))
        downgrade(revision=BEFORE)
        tables = inspect(engine).get_table_names()
        assert "login_throttles" not in tables and "admin_audit_events" not in tables
        assert "session_version" not in {c["name"] for c in inspect(engine).get_columns("users")}
        engine.dispose()
        _db.engine.dispose()
