"""Migration a3c5e7f9b1d2: existing plans get their first audience branch, revision 1 and
their template's channel; downgrade drops it all (SQLite file of its own)."""

import json

from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from app.core.extensions import db as _db
from app.factory import create_app
from config import TestConfig

BEFORE = "7b3e9c1d2f40"


def test_existing_plans_get_audience_revision_and_channel(tmp_path):
    url = f"sqlite:///{tmp_path / 'plans.sqlite3'}"
    app = create_app(TestConfig(), SQLALCHEMY_DATABASE_URI=url)
    engine = create_engine(url)
    with app.app_context():
        upgrade(revision=BEFORE)
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO branches (id, code, name, level, path) "
                                    "VALUES (1, 'HQ', '总行', 'hq', '/1/')"))
            connection.execute(text(
                "INSERT INTO users (id, username, display_name, password_hash, role, branch_id, "
                "is_active_account, is_demo, created_at, session_version, "
                "must_change_password) VALUES (1, 'e', 'e', 'x', 'editor', 1, 1, 0, "
                "'2025-01-01 00:00:00', 0, 0)"))
            connection.execute(text(
                "INSERT INTO content_templates (id, slug, title, channel, product, content_kind,"
                " status, author_id, created_at, updated_at) VALUES (1, 't', '群公告', "
                "'customer_group', 'general', 'service_notice', 'approved', 1, "
                "'2025-01-01 00:00:00', '2025-01-01 00:00:00')"))
            connection.execute(text(
                "INSERT INTO sop_plans (id, name, template_id, branch_id, send_time, timezone, "
                "calendar, schedule, is_active, created_by_id, created_at) VALUES (7, 'p', 1, 1,"
                " '08:30:00', 'Asia/Shanghai', 'XSHG', 'trading-days@08:30', 1, 1, "
                "'2025-01-01 00:00:00')"))
        upgrade()
        with engine.connect() as connection:
            plan = connection.execute(text(
                "SELECT channel, revision FROM sop_plans WHERE id = 7")).one()
            audience = connection.execute(text(
                "SELECT sop_plan_id, branch_id, segment_id, position FROM plan_audience")).all()
            revision = connection.execute(text(
                "SELECT number, created_by_id, fields FROM sop_plan_revisions")).one()
        assert tuple(plan) == ("customer_group", 1)
        assert [tuple(row) for row in audience] == [(7, 1, None, 0)]
        assert revision[0] == 1 and revision[1] == 1
        fields = json.loads(revision[2])
        assert fields["branch_names"] == ["总行"] and fields["branch_ids"] == [1]
        assert fields["schedule"] == "trading-days@08:30" and fields["template_title"] == "群公告"
        downgrade(revision=BEFORE)
        inspector = inspect(engine)
        assert not inspector.has_table("plan_audience")
        assert "channel" not in {c["name"] for c in inspector.get_columns("sop_plans")}
        engine.dispose()
        _db.engine.dispose()
