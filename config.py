"""Configuration for Zhongtai 中台.

Every setting is read from an environment variable when the config object is
created (never at import time of the app package). Names carry their units.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent
DEFAULT_SECRET_KEY = "dev-only-change-me"  # noqa: S105 - refused by ProductionConfig


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_int(name: str, default: int) -> int:
    return int(_env(name, str(default)))


def _env_float(name: str, default: float) -> float:
    return float(_env(name, str(default)))


def _env_json_dict(name: str, default: dict) -> dict:
    """A JSON object setting; a malformed value fails at startup (ValueError)."""
    raw = _env(name)
    if raw is None:
        return dict(default)
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise ValueError(f"{name} must be a JSON object")
    return value


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
        #: Downtime grace: after an outage a plan run due within this is still run (once);
        #: older ones are marked missed.
        self.SCHEDULER_MISFIRE_GRACE_SECONDS = _env_int("SCHEDULER_MISFIRE_GRACE_SECONDS", 3600)
        #: The scheduler's clock: seconds between two ticks.
        self.SCHEDULER_TICK_SECONDS = _env_int("SCHEDULER_TICK_SECONDS", 60)
        #: SQLite only: the scheduler's lease row lasts this long unless renewed; the
        #: running scheduler renews it every third of it, and a crashed one's lease can be
        #: taken over once it has expired.
        self.SCHEDULER_LEASE_SECONDS = _env_int("SCHEDULER_LEASE_SECONDS", 60)
        self.TASK_DUE_MINUTES = _env_int("TASK_DUE_MINUTES", 120)
        #: Frequency caps 频次上限 (README "Frequency caps"): promotional messages a customer
        #: may receive per ISO week across all active plans; per-segment overrides as JSON
        #: ``{"segment code": cap}``; the content kinds that count as promotional
        #: (comma-separated); how many weeks ahead (this one included) plans are checked.
        self.FREQUENCY_CAP_PER_WEEK = _env_int("FREQUENCY_CAP_PER_WEEK", 3)
        self.FREQUENCY_CAP_PER_WEEK_BY_SEGMENT = _env_json_dict(
            "FREQUENCY_CAP_PER_WEEK_BY_SEGMENT", {"private": 2})
        self.FREQUENCY_CAP_PROMOTIONAL_KINDS = tuple(_env(
            "FREQUENCY_CAP_PROMOTIONAL_KINDS", "product_promotion").split(","))
        self.FREQUENCY_CAP_WEEKS = _env_int("FREQUENCY_CAP_WEEKS", 4)
        #: Largest amount of one reported conversion 转化, in CNY (default 50,000,000 = 5000万):
        #: a larger figure is a typo or an attempt to inflate the middle-office scorecard.
        self.MAX_CONVERSION_AMOUNT_CNY = _env_int("MAX_CONVERSION_AMOUNT_CNY", 50_000_000)
        #: Largest request body in bytes (Flask's MAX_CONTENT_LENGTH; 413 beyond). Default 1 MiB.
        self.MAX_REQUEST_BYTES = _env_int("MAX_REQUEST_BYTES", 1024 * 1024)
        #: Largest body of a view marked ``@body_limit("MAX_IMPORT_BYTES")`` (file imports),
        #: in bytes; uploaded files are spooled to disk and streamed to storage and back, so
        #: memory stays flat. Default 256 MiB (a 1,000,000-row contacts CSV is about 60 MB).
        self.MAX_IMPORT_BYTES = _env_int("MAX_IMPORT_BYTES", 256 * 1024 * 1024)
        #: Largest non-file form field (multipart) or url-encoded form body, in bytes
        #: (Flask's MAX_FORM_MEMORY_SIZE). Default 512 KiB; keep it at least 64 KiB, the
        #: chunk in which werkzeug reads multipart bodies (file uploads included).
        self.MAX_FORM_MEMORY_BYTES = _env_int("MAX_FORM_MEMORY_BYTES", 512 * 1024)
        #: Largest number of fields and files in one multipart form (Flask's own name).
        self.MAX_FORM_PARTS = _env_int("MAX_FORM_PARTS", 1000)
        #: Deepest nesting of arrays and objects in a parsed JSON document (400 beyond).
        self.MAX_JSON_DEPTH = _env_int("MAX_JSON_DEPTH", 32)
        #: The render budget of one sandboxed render (editor templates; README "Security"):
        #: CPU time, output characters (also the longest string or list a template may
        #: build), loop iterations, integer width of ``**``/``*`` results, and the memory
        #: a render may add in its worker process.
        self.RENDER_CPU_SECONDS = _env_float("RENDER_CPU_SECONDS", 1.0)
        self.RENDER_MAX_OUTPUT_CHARS = _env_int("RENDER_MAX_OUTPUT_CHARS", 20_000)
        self.RENDER_MAX_LOOP_ITERATIONS = _env_int("RENDER_MAX_LOOP_ITERATIONS", 10_000)
        self.RENDER_MAX_INT_BITS = _env_int("RENDER_MAX_INT_BITS", 1024)
        self.RENDER_MEMORY_MB = _env_int("RENDER_MEMORY_MB", 256)
        #: Render worker processes per web or scheduler process (kernel-limited, replaced
        #: when killed).
        self.RENDER_WORKER_PROCESSES = _env_int("RENDER_WORKER_PROCESSES", 2)
        #: Approval renders the version for this many next run dates of its plans.
        self.APPROVAL_RENDER_DAYS = _env_int("APPROVAL_RENDER_DAYS", 30)
        #: Customer, contact and verification imports: rows written per batch (memory stays
        #: bounded by it) and the most per-row errors listed in one result.
        self.IMPORT_BATCH_ROWS = _env_int("IMPORT_BATCH_ROWS", 2000)
        self.IMPORT_MAX_ERRORS = _env_int("IMPORT_MAX_ERRORS", 1000)
        #: Valid adds 有效添加 (README "Valid adds"): an add counts only if verified within
        #: this many days after it, and per RM and calendar month at most this fraction of
        #: the adds passing the other rules may come from another province (floor, earliest
        #: first). ``ADDS_RULES`` lists the rules in force (comma-separated): verified,
        #: customer, own, first, province.
        self.ADDS_VERIFICATION_GRACE_DAYS = _env_int("ADDS_VERIFICATION_GRACE_DAYS", 7)
        self.ADDS_OUT_OF_PROVINCE_QUOTA_RATE = _env_float("ADDS_OUT_OF_PROVINCE_QUOTA_RATE", 0.2)
        self.ADDS_RULES = _env("ADDS_RULES", "verified,customer,own,first,province")
        #: Valid adds each RM is asked for per calendar month (the add quota 添加任务).
        self.ADDS_MONTHLY_TARGET = _env_int("ADDS_MONTHLY_TARGET", 50)
        #: Local time (``TIMEZONE``, HH:MM) of the scheduler's nightly coverage snapshot of
        #: the day before (and of the catch-up when ``flask scheduler run`` starts).
        self.COVERAGE_SNAPSHOT_TIME = _env("COVERAGE_SNAPSHOT_TIME", "00:30")
        #: Gaming flags (evidence for managers, README "Gaming flags"): the bank's own WeCom
        #: corp names (comma-separated; a contact from them is a colleague), the burst that
        #: suggests bought followers (this many adds within the window, this share of them
        #: unverified or not customers) and how many staff following one contact make it a
        #: colleague.
        self.BANK_CORP_NAMES = _env("BANK_CORP_NAMES", "示例银行")
        self.FLAG_BURST_MIN_ADDS = _env_int("FLAG_BURST_MIN_ADDS", 8)
        self.FLAG_BURST_WINDOW_MINUTES = _env_int("FLAG_BURST_WINDOW_MINUTES", 60)
        self.FLAG_BURST_BAD_SHARE = _env_float("FLAG_BURST_BAD_SHARE", 0.8)
        self.FLAG_COLLEAGUE_MIN_STAFF = _env_int("FLAG_COLLEAGUE_MIN_STAFF", 4)
        self.DEMO_PASSWORD = _env("DEMO_PASSWORD", "zhongtai-demo")
        self.DEMO_DATE = _env("DEMO_DATE", "2025-04-25")
        #: Pins "today" (ISO date) for demos on the snapshot; unset = real date in TIMEZONE.
        self.BUSINESS_DATE = _env("BUSINESS_DATE")
        #: Flask-Limiter storage; production refuses ``memory://`` (one count per worker).
        self.RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI", "memory://")
        #: Failed login POSTs per client address: high enough for a whole branch behind one
        #: NAT; the per-account lock below stops guessing at one account.
        self.RATELIMIT_LOGIN = _env("RATELIMIT_LOGIN", "100 per minute")
        #: ``Retry-After`` (and ``X-RateLimit-*``) on rate-limited routes, the 429 included.
        self.RATELIMIT_HEADERS_ENABLED = True
        #: Per-account lock: this many failed logins within the window lock the username.
        self.LOGIN_MAX_FAILURES = _env_int("LOGIN_MAX_FAILURES", 5)
        self.LOGIN_FAILURE_WINDOW_MINUTES = _env_int("LOGIN_FAILURE_WINDOW_MINUTES", 15)
        self.LOGIN_LOCK_MINUTES = _env_int("LOGIN_LOCK_MINUTES", 15)
        #: Idle timeout: a session unused this long is gone (the cookie's signature expires).
        self.SESSION_IDLE_MINUTES = _env_int("SESSION_IDLE_MINUTES", 30)
        self.PERMANENT_SESSION_LIFETIME = dt.timedelta(minutes=self.SESSION_IDLE_MINUTES)
        self.SESSION_REFRESH_EACH_REQUEST = True
        #: Password policy: at least this many characters, from 3 of 4 character classes.
        self.PASSWORD_MIN_LENGTH = _env_int("PASSWORD_MIN_LENGTH", 10)
        #: ``Strict-Transport-Security`` max-age; 0 sends no header (production: one year).
        self.HSTS_MAX_AGE_SECONDS = _env_int("HSTS_MAX_AGE_SECONDS", 0)
        self.WTF_CSRF_TIME_LIMIT = None
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        #: WeCom 企业微信 connector (README "Connecting WeCom"). Without CorpID and secret the
        #: product runs in manual mode: staff mark tasks done and report reactions themselves.
        self.WECOM_CORP_ID = _env("WECOM_CORP_ID")
        #: Secret of the self-built app listed under 客户联系 → 可调用接口的应用 (never logged).
        self.WECOM_SECRET = _env("WECOM_SECRET")
        self.WECOM_AGENT_ID = _env("WECOM_AGENT_ID")
        self.WECOM_API_BASE = _env("WECOM_API_BASE", "https://qyapi.weixin.qq.com/cgi-bin/")
        #: Token and 43-character EncodingAESKey of the callback URL (/wecom/callback).
        self.WECOM_CALLBACK_TOKEN = _env("WECOM_CALLBACK_TOKEN")
        self.WECOM_CALLBACK_AES_KEY = _env("WECOM_CALLBACK_AES_KEY")
        #: A callback whose signed timestamp is further than this from now is refused.
        self.WECOM_CALLBACK_MAX_AGE_SECONDS = _env_int("WECOM_CALLBACK_MAX_AGE_SECONDS", 300)
        #: Optional Redis for the shared access token (default: the database).
        self.WECOM_TOKEN_REDIS_URL = _env("WECOM_TOKEN_REDIS_URL")
        self.WECOM_TIMEOUT_SECONDS = _env_float("WECOM_TIMEOUT_SECONDS", 10.0)
        #: The scheduler pulls today's WeCom results this often (previous days: nightly).
        self.WECOM_PULL_INTERVAL_SECONDS = _env_int("WECOM_PULL_INTERVAL_SECONDS", 300)
        #: A mass message not sent this many minutes after its due time gets a reminder 催办.
        self.WECOM_REMIND_AFTER_MINUTES = _env_int("WECOM_REMIND_AFTER_MINUTES", 30)
        #: A push run also retries the pending or failed-for-now pushes of this many run
        #: dates before the day pushed (0: that day only).
        self.WECOM_PUSH_RETRY_DAYS = _env_int("WECOM_PUSH_RETRY_DAYS", 2)
        self.LOG_LEVEL = _env("LOG_LEVEL", "INFO")
        self.ALLOW_DEMO_ACCOUNTS = True
        self.TESTING = False
        self._production_settings()

    def _production_settings(self) -> None:
        """Serving, observability and scale-out settings (docs/configuration.md)."""
        #: ``text`` (one line per record) or ``json`` (one JSON object per line, production).
        self.LOG_FORMAT = _env("LOG_FORMAT", "text")
        #: Reverse proxies in front of the app whose ``X-Forwarded-*`` headers are trusted
        #: (werkzeug ``ProxyFix``); 0 trusts none.
        self.PROXY_FIX_HOPS = _env_int("PROXY_FIX_HOPS", 0)
        #: SQLAlchemy pool per process (PostgreSQL): keep ``threads`` of a gunicorn worker
        #: within ``DB_POOL_SIZE + DB_MAX_OVERFLOW``; see docs/deployment.md "Connections".
        self.DB_POOL_SIZE = _env_int("DB_POOL_SIZE", 5)
        self.DB_MAX_OVERFLOW = _env_int("DB_MAX_OVERFLOW", 5)
        self.DB_POOL_TIMEOUT_SECONDS = _env_int("DB_POOL_TIMEOUT_SECONDS", 10)
        self.DB_POOL_RECYCLE_SECONDS = _env_int("DB_POOL_RECYCLE_SECONDS", 1800)
        #: PostgreSQL ``statement_timeout`` of the app's connections, in milliseconds (0 = none).
        self.DB_STATEMENT_TIMEOUT_MS = _env_int("DB_STATEMENT_TIMEOUT_MS", 0)
        #: PostgreSQL ``random_page_cost`` of the app's connections (SSD or data in RAM:
        #: index lookups cost about a sequential read); empty keeps the server's setting.
        self.DB_RANDOM_PAGE_COST = _env("DB_RANDOM_PAGE_COST", "1.1")
        #: Background tasks: empty runs them in-process at enqueue time; ``redis://…``
        #: sends them to Dramatiq workers (``flask tasks worker``).
        self.TASK_QUEUE_URL = _env("TASK_QUEUE_URL", "")
        #: Dramatiq queue-name prefix: tests and several deployments can share one Redis.
        self.TASK_QUEUE_NAMESPACE = _env("TASK_QUEUE_NAMESPACE", "zhongtai")
        #: Files (chart images, generated reports, uploaded import files): ``file`` under
        #: ``STORAGE_DIR`` (default
        #: the instance folder) or ``s3`` in ``STORAGE_S3_BUCKET``.
        self.STORAGE_BACKEND = _env("STORAGE_BACKEND", "file")
        self.STORAGE_DIR = _env("STORAGE_DIR")
        self.STORAGE_S3_BUCKET = _env("STORAGE_S3_BUCKET")
        self.STORAGE_S3_PREFIX = _env("STORAGE_S3_PREFIX", "")
        #: S3-compatible endpoint (MinIO, Ceph RGW, a cloud's object store); empty = AWS.
        self.STORAGE_S3_ENDPOINT_URL = _env("STORAGE_S3_ENDPOINT_URL")
        self.STORAGE_S3_REGION = _env("STORAGE_S3_REGION", "us-east-1")
        #: Bearer token Prometheus sends to ``GET /metrics``; unset = the endpoint is 404.
        self.METRICS_TOKEN = _env("METRICS_TOKEN")
        #: ``/readyz`` fails when the scheduler's lock shows no live scheduler (PostgreSQL:
        #: no session holds the advisory lock; SQLite: the lease expired).
        self.READYZ_REQUIRE_SCHEDULER = _env("READYZ_REQUIRE_SCHEDULER", "1") == "1"


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
    """Production: refuses default secrets, SQLite, in-memory rate limits and demo accounts.

    Checked at boot (``app.check_production_settings``); sends HSTS.
    """

    ENV_NAME = "production"

    def __init__(self) -> None:
        super().__init__()
        self.ALLOW_DEMO_ACCOUNTS = False
        self.SESSION_COOKIE_SECURE = True
        self.REMEMBER_COOKIE_SECURE = True
        self.HSTS_MAX_AGE_SECONDS = _env_int("HSTS_MAX_AGE_SECONDS", 31_536_000)
        self.LOG_FORMAT = _env("LOG_FORMAT", "json")


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
