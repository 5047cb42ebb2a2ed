"""Flask extensions, created unbound and initialised in ``create_app``."""

from __future__ import annotations

from flask_httpauth import HTTPTokenAuth
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from app.core.db import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
token_auth = HTTPTokenAuth(scheme="Bearer")
limiter = Limiter(key_func=get_remote_address, default_limits=[])
