"""Revision 1c06dfeece0c: render-only findings move from offset -1 to NULL and back."""

from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text

from app.core.extensions import db as _db
from app.factory import create_app
from config import TestConfig

BEFORE, AFTER = "f1170b4c52a2", "1c06dfeece0c"
ROWS = [(1, "TPL-RENDER", "block", -1, -1), (2, "DATA-01", "warn", 4, 9),
        (3, "REQ-1", "warn", 12, 12)]


def _offsets(engine):
    with engine.connect() as connection:
        return connection.execute(text(
            'SELECT id, start, "end" FROM compliance_findings ORDER BY id')).all()


def test_minus_one_offsets_become_null_and_come_back(tmp_path):
    url = f"sqlite:///{tmp_path / 'offsets.sqlite3'}"
    app = create_app(TestConfig(), SQLALCHEMY_DATABASE_URI=url)
    engine = create_engine(url)
    with app.app_context():
        upgrade(revision=BEFORE)
        with engine.begin() as connection:  # SQLite does not enforce the foreign key here
            connection.execute(text(
                'INSERT INTO compliance_findings (id, version_id, rule_id, severity, start, "end", '
                "message, citation) VALUES (:id, 1, :rule, :severity, :start, :end, 'm', 'c')"),
                [dict(zip(("id", "rule", "severity", "start", "end"), row, strict=True))
                 for row in ROWS])
        upgrade(revision=AFTER)
        assert _offsets(engine) == [(1, None, None), (2, 4, 9), (3, 12, 12)]
        downgrade(revision=BEFORE)
        assert _offsets(engine) == [(1, -1, -1), (2, 4, 9), (3, 12, 12)]
        engine.dispose()
        _db.engine.dispose()
