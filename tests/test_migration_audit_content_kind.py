"""Revisions 5b0c6e1d2a71 (content kind, validity) and 8e4f2a9c7d13 (one audit log)."""

from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from app.audit.chain import verify
from app.core.extensions import db as _db
from app.factory import create_app
from config import TestConfig

BEFORE, AFTER = "514fe1b94a4e", "8e4f2a9c7d13"


def _seed(connection) -> None:
    connection.execute(text("INSERT INTO branches (id, code, name, level, path) "
                            "VALUES (1, 'HQ', '总行', 'hq', '/1/')"))
    connection.execute(text(
        "INSERT INTO users (id, username, display_name, password_hash, role, branch_id, "
        "is_active_account, is_demo, created_at, session_version, must_change_password) "
        "VALUES (1, 'root', '管理员', 'h', 'admin', 1, 1, 0, '2025-01-01 00:00:00', 0, 0)"))
    for slug, product in (("market", "general"), ("fund", "fund")):
        connection.execute(text(
            "INSERT INTO content_templates (slug, title, product, channel, status, author_id, "
            "created_at, updated_at) VALUES (:slug, 't', :product, 'moments_post', 'draft', "
            "1, '2025-01-01 00:00:00', '2025-01-01 00:00:00')"), {"slug": slug,
                                                                  "product": product})
    for number, action in enumerate(("user_created", "user_updated", "branch_created"), 1):
        connection.execute(text(
            "INSERT INTO admin_audit_events (actor_id, action, target_type, target_id, before, "
            "after, created_at) VALUES (1, :action, :kind, 1, NULL, :after, :at)"),
            {"action": action, "kind": action.split("_")[0],
             "after": '{"display_name": "管理员"}', "at": f"2025-01-0{number} 08:00:00"})


def test_admin_events_become_the_start_of_the_chain(tmp_path):
    url = f"sqlite:///{tmp_path / 'audit.sqlite3'}"
    app = create_app(TestConfig(), SQLALCHEMY_DATABASE_URI=url)
    engine = create_engine(url)
    with app.app_context():
        upgrade(revision=BEFORE)
        with engine.begin() as connection:
            _seed(connection)
        upgrade(revision=AFTER)
        with engine.connect() as connection:
            kinds = dict(connection.execute(text(
                "SELECT slug, content_kind FROM content_templates")).all())
            assert kinds == {"market": "market_commentary", "fund": "product_promotion"}
            rows = connection.execute(text(
                "SELECT id, action, object_type, prev_sha256 FROM audit_events ORDER BY id")).all()
            assert [(r.id, r.action, r.object_type) for r in rows] == [
                (1, "user_created", "user"), (2, "user_updated", "user"),
                (3, "branch_created", "branch")]
            assert rows[0].prev_sha256 == "0" * 64
        result = verify()
        assert result.ok and result.checked == 3
        downgrade(revision=BEFORE)
        tables = inspect(engine).get_table_names()
        assert "audit_events" not in tables and "admin_audit_events" in tables
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM admin_audit_events")).scalar() == 3
        engine.dispose()
        _db.engine.dispose()
