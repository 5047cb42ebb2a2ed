"""The connector's scheduler jobs: installed only in WeCom mode, with stable ids."""

from __future__ import annotations

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from app.broadcasts.scheduler import build_scheduler
from app.core.scheduling import install_registered_jobs


@pytest.fixture
def scheduler(app):
    """The scheduler ``flask scheduler run`` builds, started paused so that the jobs are
    added to its job stores for real (an unknown store fails only at start)."""
    scheduler = build_scheduler(app, BackgroundScheduler)
    yield scheduler
    if scheduler.running:
        scheduler.shutdown(wait=False)


def test_jobs_are_installed_in_wecom_mode(app, connected, monkeypatch, scheduler):
    monkeypatch.setitem(app.config, "WECOM_PULL_INTERVAL_SECONDS", 120)
    install_registered_jobs(scheduler, app)
    scheduler.start(paused=True)
    jobs = {job.id: job for job in scheduler.get_jobs() if job.id.startswith("wecom")}
    assert set(jobs) == {"wecom-push", "wecom-pull", "wecom-nightly"}
    assert jobs["wecom-pull"].trigger.interval.total_seconds() == 120
    assert jobs["wecom-push"].trigger.interval.total_seconds() == 60
    assert "hour='2'" in str(jobs["wecom-nightly"].trigger)


def test_no_jobs_in_manual_mode(app, monkeypatch, scheduler):
    monkeypatch.setitem(app.config, "WECOM_CORP_ID", None)
    install_registered_jobs(scheduler, app)
    scheduler.start(paused=True)
    assert [job.id for job in scheduler.get_jobs() if job.id.startswith("wecom")] == []
