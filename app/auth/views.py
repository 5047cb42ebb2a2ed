"""Login and logout pages, and the home redirect by role."""

from __future__ import annotations

import datetime as dt
import logging
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app.auth import bp
from app.auth.forms import ChangePasswordForm, LoginForm
from app.auth.permissions import HOME_ENDPOINTS
from app.auth.services import attempt_login, change_own_password, revoke_sessions
from app.core.clock import to_local, utcnow
from app.core.errors import ValidationFailed
from app.core.extensions import limiter
from app.core.unit_of_work import discard_changes

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


def lock_message(until: dt.datetime) -> str:
    """Chinese message for a locked account, with the end of the lock in Beijing time.

    :param until: aware UTC end of the lock; shown rounded up to the minute.
    """
    local = to_local(until)
    shown = (local + dt.timedelta(seconds=59, microseconds=999_999)).replace(second=0,
                                                                             microsecond=0)
    return (f"登录失败次数过多，该账户已暂时锁定，请于北京时间 {shown:%Y-%m-%d %H:%M} 后再试；"
            "如忘记密码，请联系系统管理员重置。")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed_login)
def login():
    """Username/password login under the per-account lock; honours a safe local ``next``.

    A failed attempt answers 200 with the form, so the request still commits the
    failure count (``app.auth.throttle``).
    """
    form = LoginForm()
    if form.validate_on_submit():
        username = form.username.data.strip()
        attempt = attempt_login(username, form.password.data, utcnow())
        if attempt.user is not None:
            session.permanent = True  # idle timeout: PERMANENT_SESSION_LIFETIME
            login_user(attempt.user)
            logger.info("login user_id=%s", attempt.user.id)
            return redirect(safe_next_url(request.args.get("next")) or url_for("auth.home"))
        logger.info("failed login for username=%s", username[:64])
        if attempt.locked_until is not None:
            flash(lock_message(attempt.locked_until), "error")
        else:
            flash("用户名或密码错误", "error")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Log out (POST with CSRF token) and revoke every session of the user."""
    revoke_sessions(current_user._get_current_object())
    logger.info("logout user_id=%s", current_user.id)
    logout_user()
    return redirect(url_for("auth.login"))


#: Endpoints a user who must change their password may still reach.
PASSWORD_CHANGE_EXEMPT = frozenset({"auth.change_password", "auth.logout", "auth.login",
                                    "static", "ops.healthz"})


@bp.before_app_request
def require_own_password():
    """Send a user with an initial or reset password to 修改密码 before any other page.

    The bearer-token API is left alone: it never reads the session.
    """
    if request.endpoint in PASSWORD_CHANGE_EXEMPT or request.blueprint == "api":
        return None
    if current_user.is_authenticated and current_user.must_change_password:
        return redirect(url_for("auth.change_password"))
    return None


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """修改密码: every user; forced after an initial or reset password."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            change_own_password(user, form.current_password.data, form.new_password.data,
                                utcnow())
        except ValidationFailed as error:
            discard_changes()
            for name, messages in (error.errors or {}).items():
                form[name].errors = list(messages)
        else:
            login_user(user)  # this browser stays signed in under the new session version
            flash("密码已修改，其他设备上的登录已失效", "success")
            return redirect(url_for("auth.home"))
    return render_template("auth/change_password.html", form=form,
                           forced=current_user.must_change_password)
