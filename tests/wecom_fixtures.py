"""Fixtures shared by tests/wecom and tests/connector: a fake WeCom server on loopback and
clients that talk to it over HTTP (imported by their conftest files)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine

from app.wecom.client import WeComClient
from app.wecom.fake import FakeWeCom, start_fake_wecom
from app.wecom.fake.base import FakeClock
from app.wecom.models import WeComAccessToken
from app.wecom.tokens import DatabaseTokenStore

START = 1_745_539_200.0  # 2025-04-25 08:00 Asia/Shanghai


@pytest.fixture
def clock():
    return FakeClock(start=START)


@pytest.fixture
def fake(clock):
    server = start_fake_wecom(FakeWeCom(clock=clock, dispatch_seconds=5))
    yield server
    server.stop()


@pytest.fixture
def token_engine(tmp_path):
    """A database of its own for the token cache (it commits on its own connection)."""
    engine = create_engine(f"sqlite:///{tmp_path / 'tokens.sqlite3'}")
    WeComAccessToken.__table__.create(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def make_client(fake, clock, token_engine, sleeps):
    clients = []

    def _make(**overrides):
        options = dict(base_url=fake.base_url, corp_id=fake.corp_id, secret=fake.secret,
                       token_store=DatabaseTokenStore(token_engine), sleep=sleeps.append,
                       clock=clock, timeout_seconds=5.0)
        options.update(overrides)
        client = WeComClient(**options)
        clients.append(client)
        return client

    yield _make
    for client in clients:
        client.http.close()


@pytest.fixture
def wecom(make_client):
    return make_client()
