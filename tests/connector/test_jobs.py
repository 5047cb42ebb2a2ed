"""The connector's scheduler jobs: installed only in WeCom mode, with stable ids."""

from __future__ import annotations

from apscheduler.schedulers.background import BackgroundScheduler

from app.core.scheduling import install_registered_jobs


def _scheduler():
    scheduler = BackgroundScheduler(timezone="Asia/Shanghai")
    scheduler.add_jobstore("memory", alias="volatile")
    return scheduler


def test_jobs_are_installed_in_wecom_mode(app, connected, monkeypatch):
    monkeypatch.setitem(app.config, "WECOM_PULL_INTERVAL_SECONDS", 120)
    scheduler = _scheduler()
    install_registered_jobs(scheduler, app)
    jobs = {job.id: job for job in scheduler.get_jobs() if job.id.startswith("wecom")}
    assert set(jobs) == {"wecom-push", "wecom-pull", "wecom-nightly"}
    assert jobs["wecom-pull"].trigger.interval.total_seconds() == 120
    assert jobs["wecom-push"].trigger.interval.total_seconds() == 60
    assert "hour='2'" in str(jobs["wecom-nightly"].trigger)


def test_no_jobs_in_manual_mode(app, monkeypatch):
    monkeypatch.setitem(app.config, "WECOM_CORP_ID", None)
    scheduler = _scheduler()
    install_registered_jobs(scheduler, app)
    assert [job.id for job in scheduler.get_jobs() if job.id.startswith("wecom")] == []
