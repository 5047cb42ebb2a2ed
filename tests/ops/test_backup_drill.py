"""deploy/backup_drill.sh: pg_dump, restore into a new database, start the app, /readyz passes."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import func, select

from app.core.extensions import db as _db
from app.factory import create_app
from app.org.models import User
from config import TestConfig
from tests import factories

ROOT = Path(__file__).resolve().parents[2]


def test_backup_restores_into_a_ready_database(scratch_database, tmp_path):
    app = create_app(TestConfig(), SQLALCHEMY_DATABASE_URI=scratch_database)
    with app.app_context():
        upgrade()
        factories.bind_session(_db.session)
        factories.UserFactory.create_batch(3)
        _db.session.commit()
        users = _db.session.scalar(select(func.count(User.id)))
        _db.session.remove()
        _db.engine.dispose()
    drill = f"{scratch_database.rsplit('/', 1)[1]}_copy"
    env = {**os.environ, "BACKUP_DIR": str(tmp_path), "ZHONGTAI_ENV": "development",
           "LOG_LEVEL": "WARNING"}
    result = subprocess.run(["bash", "deploy/backup_drill.sh", scratch_database, drill],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("drill passed")
    assert f"   users {' ' * 15}{users:>10} | {users}" in result.stdout
    assert '"migrations": {"ok": true' in result.stdout.replace("\n", " ") or \
        "/readyz 200" in result.stdout
    assert list(tmp_path.glob("*.dump"))
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    from tests.ops.conftest import postgres_url

    admin = create_engine(postgres_url(), poolclass=NullPool)
    with admin.connect() as connection:  # the drill database was dropped again
        assert connection.execute(text("SELECT count(*) FROM pg_database WHERE datname = :d"),
                                  {"d": drill}).scalar() == 0
    admin.dispose()
