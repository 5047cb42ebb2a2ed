"""Configuration for Zhongtai 中台.

Every setting is read from an environment variable when the config object is
created (never at import time of the app package). Names carry their units.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent
DEFAULT_SECRET_KEY = "dev-only-change-me"  # noqa: S105 - refused by ProductionConfig


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_int(name: str, default: int) -> int:
    return int(_env(name, str(default)))


def _env_time(name: str, default: str) -> dt.time:
    """A wall-clock ``HH:MM`` setting; a malformed value fails at startup (ValueError)."""
    return dt.time.fromisoformat(_env(name, default))


class Config:
    """Settings shared by every environment.

    ``SQLALCHEMY_DATABASE_URI`` is ``None`` here and filled by ``create_app``
    with a SQLite file in the instance folder when ``DATABASE_URL`` is unset.
    """

    ENV_NAME = "base"

    def __init__(self) -> None:
        self.SECRET_KEY = _env("SECRET_KEY", DEFAULT_SECRET_KEY)
        self.SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL")
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
        #: SQLite only: how long a connection waits for the database write lock before
        #: failing with "database is locked" (``PRAGMA busy_timeout``), in milliseconds.
        self.SQLITE_BUSY_TIMEOUT_MS = _env_int("SQLITE_BUSY_TIMEOUT_MS", 15_000)
        self.TIMEZONE = "Asia/Shanghai"
        #: ``snapshot`` (bundled real data, the default) or ``yfinance`` (live).
        self.MARKET_DATA_PROVIDER = _env("MARKET_DATA_PROVIDER", "snapshot")
        self.MARKET_SNAPSHOT_DIR = _env(
            "MARKET_SNAPSHOT_DIR", str(PROJECT_ROOT / "app" / "market" / "snapshot")
        )
        self.MARKET_HISTORY_DAYS = _env_int("MARKET_HISTORY_DAYS", 400)
        #: A last close older than this (calendar days before the run date) counts as missing.
        self.MARKET_MAX_STALE_DAYS = _env_int("MARKET_MAX_STALE_DAYS", 14)
        #: Market cutoff, wall clock in TIMEZONE on the run date: content for a run date
        #: uses only closes published by then (e.g. the US close dated the day before).
        self.MARKET_CUTOFF_TIME = _env_time("MARKET_CUTOFF_TIME", "08:00")
        self.MARKET_REFRESH_INTERVAL_SECONDS = _env_int("MARKET_REFRESH_INTERVAL_SECONDS", 3600)
        self.CHART_SPEC_DIR = _env("CHART_SPEC_DIR", str(PROJECT_ROOT / "charts"))
        #: Where rendered chart PNGs are written; default ``<instance>/charts``.
        self.CHART_OUTPUT_DIR = _env("CHART_OUTPUT_DIR")
        self.CONTENT_TEMPLATE_DIR = _env(
            "CONTENT_TEMPLATE_DIR", str(PROJECT_ROOT / "content_templates")
        )
        self.SCHEDULER_MISFIRE_GRACE_SECONDS = _env_int("SCHEDULER_MISFIRE_GRACE_SECONDS", 3600)
        self.SCHEDULER_SYNC_INTERVAL_SECONDS = _env_int("SCHEDULER_SYNC_INTERVAL_SECONDS", 60)
        #: SQLite only: the scheduler's lease row lasts this long unless renewed; the
        #: running scheduler renews it every third of it, and a crashed one's lease can be
        #: taken over once it has expired.
        self.SCHEDULER_LEASE_SECONDS = _env_int("SCHEDULER_LEASE_SECONDS", 60)
        self.TASK_DUE_MINUTES = _env_int("TASK_DUE_MINUTES", 120)
        #: Largest amount of one reported conversion 转化, in CNY (default 50,000,000 = 5000万):
        #: a larger figure is a typo or an attempt to inflate the middle-office scorecard.
        self.MAX_CONVERSION_AMOUNT_CNY = _env_int("MAX_CONVERSION_AMOUNT_CNY", 50_000_000)
        self.DEMO_PASSWORD = _env("DEMO_PASSWORD", "zhongtai-demo")
        self.DEMO_DATE = _env("DEMO_DATE", "2025-04-25")
        #: Pins "today" (ISO date) for demos on the snapshot; unset = real date in TIMEZONE.
        self.BUSINESS_DATE = _env("BUSINESS_DATE")
        self.RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI", "memory://")
        self.RATELIMIT_LOGIN = _env("RATELIMIT_LOGIN", "10 per minute")
        self.WTF_CSRF_TIME_LIMIT = None
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        self.LOG_LEVEL = _env("LOG_LEVEL", "INFO")
        self.ALLOW_DEMO_ACCOUNTS = True
        self.TESTING = False


class DevelopmentConfig(Config):
    """Local development: SQLite in the instance folder, demo accounts allowed."""

    ENV_NAME = "development"


class TestConfig(Config):
    """Test runs: database from ``TEST_DATABASE_URL`` (SQLite file by default)."""

    ENV_NAME = "test"
    __test__ = False  # not a pytest class

    def __init__(self) -> None:
        super().__init__()
        self.TESTING = True
        self.SQLALCHEMY_DATABASE_URI = _env("TEST_DATABASE_URL")
        self.MARKET_DATA_PROVIDER = "snapshot"
        self.RATELIMIT_ENABLED = False
        self.SERVER_NAME = None


class ProductionConfig(Config):
    """Production: refuses default secrets, SQLite and demo accounts (checked at boot)."""

    ENV_NAME = "production"

    def __init__(self) -> None:
        super().__init__()
        self.ALLOW_DEMO_ACCOUNTS = False
        self.SESSION_COOKIE_SECURE = True
        self.REMEMBER_COOKIE_SECURE = True


CONFIGS = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}


def config_from_env() -> Config:
    """Return the config object named by ``ZHONGTAI_ENV`` (default ``development``).

    :raises KeyError: if ``ZHONGTAI_ENV`` names no known environment.
    """
    return CONFIGS[_env("ZHONGTAI_ENV", "development")]()
