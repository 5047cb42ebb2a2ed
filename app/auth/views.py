"""Login and logout pages, and the home redirect by role."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app.auth import bp
from app.auth.forms import LoginForm
from app.auth.permissions import HOME_ENDPOINTS
from app.auth.services import authenticate
from app.core.extensions import limiter

logger = logging.getLogger(__name__)


def safe_next_url(target: str | None) -> str | None:
    """Return ``target`` if it is a local path on this site, else ``None``.

    Rejects absolute URLs, scheme-relative ``//host`` and backslash tricks.
    """
    if not target or "\\" in target or any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/")
@login_required
def home():
    """Send each role to its start page."""
    return redirect(url_for(HOME_ENDPOINTS[current_user.role]))


def _login_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


def _failed_login(response) -> bool:
    """Only failed attempts count (a successful login redirects)."""
    return response.status_code != 302


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed_login)
def login():
    """Username/password login; honours a safe local ``next``."""
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.username.data.strip(), form.password.data)
        if user is None:
            logger.info("failed login for username=%s", form.username.data.strip()[:64])
            flash("用户名或密码错误", "error")
        else:
            login_user(user)
            logger.info("login user_id=%s", user.id)
            return redirect(safe_next_url(request.args.get("next")) or url_for("auth.home"))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Log out (POST with CSRF token)."""
    logout_user()
    return redirect(url_for("auth.login"))
