"""Zhongtai 中台 application factory: ``create_app`` builds the Flask app with every package."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask

from app import models  # noqa: F401  (every model: complete metadata for Alembic)
from app.admin import bp as admin_bp
from app.admin.cli import names_cli, users_cli
from app.audit import bp as audit_bp
from app.audit.cli import audit_cli
from app.auth import bp as auth_bp
from app.broadcasts import bp as broadcasts_bp
from app.broadcasts.cli import ops_cli, scheduler_cli, sop_cli
from app.connector import bp as connector_bp
from app.connector.cli import wecom_cli
from app.content import api_bp as compliance_api_bp
from app.content import bp as content_bp
from app.content.cli import compliance_cli, content_cli
from app.core import storage, tasks
from app.core.errors import register_error_handlers
from app.core.extensions import csrf, db, limiter, login_manager, migrate
from app.core.http import register_input_limits
from app.core.logs import configure_logging
from app.core.serving import configure_engine_options, install_proxy_fix
from app.core.settings_check import check_production_settings
from app.core.sqlite import configure_sqlite_engine
from app.core.unit_of_work import register_unit_of_work
from app.customers import bp as customers_bp
from app.customers.cli import adds_cli, coverage_cli, import_cli
from app.demo.cli import demo_cli
from app.feed import api_bp as feed_api_bp
from app.feed import bp as feed_bp
from app.interactions import bp as interactions_bp
from app.market import bp as market_bp
from app.market.cli import market_cli
from app.metrics import bp as metrics_bp
from app.ops import bp as ops_bp
from app.ops.cli import tasks_cli
from app.org.services import refuse_demo_accounts
from config import Config, config_from_env

logger = logging.getLogger(__name__)


def create_app(config_object: Config | None = None, **overrides) -> Flask:
    """Build the Flask application.

    :param config_object: a ``config.Config`` instance; default from ``ZHONGTAI_ENV``.
    :param overrides: config keys that win over the config object (tests use these).
    :returns: the configured app, with extensions, blueprints, errors and CLI registered.
    :raises ProductionSettingsRefused: in production, with a default secret, SQLite,
        in-memory rate limits, a pinned ``BUSINESS_DATE`` or no task queue.
    :raises RuntimeError: in production, with demo accounts in the database.
    """
    app = Flask("app", instance_relative_config=True)  # the package: templates, static, instance/
    config_object = config_object or config_from_env()
    app.config.from_object(config_object)
    app.config.update(overrides)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = (
            f"sqlite:///{Path(app.instance_path) / 'zhongtai.sqlite3'}"
        )
    configure_logging(app)
    check_production_settings(app)
    configure_engine_options(app)
    register_input_limits(app)  # before the blueprints: rules bind the bounded int converter
    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_unit_of_work(app)
    register_commands(app)
    install_proxy_fix(app)
    return app


def register_extensions(app: Flask) -> None:
    """Bind the unbound extensions from ``app.core.extensions`` to this app.

    :raises ValueError: if ``SQLITE_BUSY_TIMEOUT_MS`` is not an integer >= 0.
    """
    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            configure_sqlite_engine(engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])
    migrate.init_app(
        app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"),
        render_as_batch=True, compare_type=True,
    )
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录"
    csrf.init_app(app)
    limiter.init_app(app)
    storage.init_app(app)
    tasks.init_app(app)
    if app.config.get("ENV_NAME") == "production":
        refuse_demo_accounts(app)


def register_blueprints(app: Flask) -> None:
    """Mount every feature blueprint."""
    for blueprint in (
        auth_bp, ops_bp, content_bp, compliance_api_bp, market_bp, broadcasts_bp, feed_bp,
        feed_api_bp,
        interactions_bp, metrics_bp, admin_bp, customers_bp, audit_bp, connector_bp,
    ):
        app.register_blueprint(blueprint)


def register_commands(app: Flask) -> None:
    """Register the CLI groups of every package."""
    for group in (ops_cli, scheduler_cli, sop_cli, compliance_cli, content_cli, market_cli,
                  demo_cli, users_cli, import_cli, adds_cli, coverage_cli, audit_cli, wecom_cli,
                  tasks_cli, names_cli):
        app.cli.add_command(group)
