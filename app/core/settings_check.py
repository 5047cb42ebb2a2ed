"""Production settings validated at boot: refuse to start with settings unfit for a bank.

``create_app`` calls :func:`check_production_settings` before anything connects. Every
problem found is listed in one error, each line naming the setting (never its value) and
what to do, so an operator fixes them all in one pass. Demo accounts are checked later,
once the database is bound (``app.org.services.refuse_demo_accounts``).
"""

from __future__ import annotations

from flask import Flask

from config import DEFAULT_SECRET_KEY


class ProductionSettingsRefused(RuntimeError):
    """Production was started with unsafe settings; ``problems`` lists one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("production settings refused:\n" + "\n".join(f"- {p}" for p in problems))
        self.problems = problems


def production_problems(config) -> list[str]:
    """The reasons ``config`` is unfit for production (empty when it is fit).

    :param config: a mapping of settings (``app.config``).
    :returns: one message per refused setting, in a fixed order.
    """
    problems = []
    if config.get("SECRET_KEY") in (None, "", DEFAULT_SECRET_KEY):
        problems.append("SECRET_KEY must be set to a non-default value in production "
                        "(e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`)")
    if str(config.get("SQLALCHEMY_DATABASE_URI") or "sqlite").startswith("sqlite"):
        problems.append("DATABASE_URL must point at PostgreSQL in production "
                        "(postgresql+psycopg://user@host/db): SQLite is the embedded default "
                        "for one machine")
    if str(config.get("RATELIMIT_STORAGE_URI") or "memory://").startswith("memory://"):
        problems.append("RATELIMIT_STORAGE_URI must point at Redis in production (e.g. "
                        "redis://host:6379/0): memory:// counts login attempts per worker process")
    if config.get("BUSINESS_DATE"):
        problems.append("BUSINESS_DATE must be unset in production: it pins 'today' for demos "
                        "on the market snapshot, so every post and task would carry that date")
    if not config.get("TASK_QUEUE_URL"):
        problems.append("TASK_QUEUE_URL must point at Redis in production (e.g. "
                        "redis://host:6379/1): without it imports and reports run inside web "
                        "requests")
    if config.get("STORAGE_BACKEND") == "s3" and not config.get("STORAGE_S3_BUCKET"):
        problems.append("STORAGE_S3_BUCKET must name the bucket when STORAGE_BACKEND=s3")
    return problems


def check_production_settings(app: Flask) -> None:
    """Refuse to boot production with unsafe settings (no-op in development and tests).

    :raises ProductionSettingsRefused: listing every refused setting.
    """
    if app.config.get("ENV_NAME") != "production":
        return
    problems = production_problems(app.config)
    if problems:
        raise ProductionSettingsRefused(problems)
