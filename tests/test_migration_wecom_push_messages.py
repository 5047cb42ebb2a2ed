"""Migration beea68feaec2: ``wecom_pushes.msgid`` moves to ``wecom_push_messages`` (one row per
WeCom mass message of a push, several when its customers were sent in chunks) and back."""

from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from app.core.extensions import db as _db
from app.factory import create_app
from config import TestConfig

BEFORE, AFTER = "c4d1e8a2b9f6", "beea68feaec2"
SENT, CREATED = "2025-04-25 00:05:00.000000", "2025-04-25 00:00:00.000000"
# id, task, action, state, msgid, jobid, failed customers (SQLite: FKs not enforced here)
PUSHES = [(1, 1, "mass_message", "sent", "msgA", None, 2),
          (2, 1, "cancel", "confirmed", "msgA", None, 0),
          (3, 2, "mass_message", "pending", None, None, 0),
          (4, 3, "moments_post", "sent", None, "job1", 0)]


def _pushes(engine):
    with engine.connect() as connection:
        return connection.execute(text("SELECT id, msgid FROM wecom_pushes ORDER BY id")).all()


def test_msgids_move_to_messages_and_the_first_comes_back(tmp_path):
    url = f"sqlite:///{tmp_path / 'messages.sqlite3'}"
    app = create_app(TestConfig(), SQLALCHEMY_DATABASE_URI=url)
    engine = create_engine(url)
    with app.app_context():
        upgrade(revision=BEFORE)
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO wecom_pushes (id, task_id, action, state, attempts, is_uncertain, "
                "msgid, jobid, failed_customers, attempted_at, sent_at, created_at) VALUES "
                "(:id, :task, :action, :state, 1, 0, :msgid, :jobid, :failed, :created, "
                ":sent, :created)"),
                [dict(zip(("id", "task", "action", "state", "msgid", "jobid", "failed"), row,
                          strict=True), created=CREATED, sent=SENT if row[3] != "pending"
                      else None) for row in PUSHES])
        upgrade(revision=AFTER)
        assert "msgid" not in {c["name"] for c in inspect(engine).get_columns("wecom_pushes")}
        with engine.begin() as connection:
            messages = connection.execute(text(
                "SELECT push_id, seq, msgid, recipients, first_external_userid, "
                "failed_customers, sent_at FROM wecom_push_messages")).all()
            assert [tuple(m) for m in messages] == [(1, 0, "msgA", None, None, 2, SENT)]
            connection.execute(text(  # a second chunk, sent after the upgrade
                "INSERT INTO wecom_push_messages (push_id, seq, msgid, first_external_userid, "
                "last_external_userid, recipients, failed_customers, attempted_at, sent_at) "
                "VALUES (1, 1, 'msgB', 'wm-a', 'wm-b', 2, 0, :at, :at)"), {"at": SENT})
        downgrade(revision=BEFORE)
        assert not inspect(engine).has_table("wecom_push_messages")
        assert _pushes(engine) == [(1, "msgA"), (2, "msgA"), (3, None), (4, None)]
        upgrade()
        with engine.connect() as connection:
            assert connection.execute(text(
                "SELECT push_id, seq, msgid FROM wecom_push_messages")).all() == [(1, 0, "msgA")]
        engine.dispose()
        _db.engine.dispose()
