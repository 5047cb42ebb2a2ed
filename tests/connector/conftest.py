"""Connector tests: the app talks to a fake WeCom server over HTTP (loopback)."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest

from app.content.models import Channel
from app.market.models import ChartImage
from app.org.models import Role
from tests import wecom_fixtures
from tests.factories import (
    ContentTemplateFactory,
    PostFactory,
    SopPlanFactory,
    TaskFactory,
    UserFactory,
)

# The fake server and its clients (tests/wecom_fixtures.py), for this directory.
clock, fake, make_client = wecom_fixtures.clock, wecom_fixtures.fake, wecom_fixtures.make_client
sleeps, token_engine, wecom = (wecom_fixtures.sleeps, wecom_fixtures.token_engine,
                               wecom_fixtures.wecom)

DAY = dt.date(2025, 4, 25)
DUE = dt.datetime(2025, 4, 25, 2, 30, tzinfo=dt.UTC)  # 10:30 Asia/Shanghai
PNG = b"\x89PNG\r\n\x1a\n" + b"chart-bytes" * 20


@pytest.fixture
def connected(app, db, wecom, fake, monkeypatch):
    """The app in WeCom mode, its client pointed at the fake server."""
    for key, value in {"WECOM_CORP_ID": fake.corp_id, "WECOM_SECRET": fake.secret,
                       "WECOM_API_BASE": fake.base_url, "BUSINESS_DATE": DAY.isoformat()
                       }.items():
        monkeypatch.setitem(app.config, key, value)
    monkeypatch.setitem(app.extensions, "wecom.client", wecom)
    return wecom


@pytest.fixture
def chart(app, db):
    """A chart image row with a real file for ``DAY``."""
    path = Path(app.config["CHART_OUTPUT_DIR"]) / DAY.isoformat() / "wecom_test.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(PNG)
    row = ChartImage(run_date=DAY, spec_name="wecom_test", path=f"{DAY}/wecom_test.png",
                     as_of={}, sha256=hashlib.sha256(PNG).hexdigest())
    db.session.add(row)
    db.session.flush()
    return row


@pytest.fixture
def make_post(db, fake, chart):
    """``make_post(channel, staff_count, customers=3)`` → (post, [tasks]); staff exist in
    the fake with ``customers`` customers each and carry ``wecom_userid``."""

    def _make(channel=Channel.mass_message, staff_count=2, customers=3, body="今日市场速览",
              with_chart=True):
        template = ContentTemplateFactory(channel=channel)
        plan = SopPlanFactory(template=template)
        post = PostFactory(sop_plan=plan, run_date=DAY,
                           chart_image_id=chart.id if with_chart else None)
        tasks = []
        for _ in range(staff_count):
            staff = UserFactory(role=Role.frontline)
            staff.wecom_userid = f"rm{staff.id}"
            fake.add_staff(staff.wecom_userid, customers=customers)
            tasks.append(TaskFactory(post=post, staff=staff, body=body, due_at=DUE))
        db.session.commit()
        return post, tasks

    return _make
