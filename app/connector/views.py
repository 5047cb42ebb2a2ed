"""Routes: the WeCom callback URL, withdrawing a post, and the tracking page's WeCom parts.

``/wecom/callback`` is called by WeCom, not by a logged-in user: it is public, exempt from
CSRF, and trusts only what passes the signature, timestamp and decryption checks.
"""

from __future__ import annotations

import logging
import time

from flask import abort, current_app, flash, redirect, request, url_for
from flask_login import current_user

from app.auth.decorators import permission_required
from app.auth.permissions import Action
from app.connector import bp, contact_events, jobs, withdraw
from app.connector.forms import WithdrawForm
from app.core.clock import utcnow
from app.core.errors import DomainError
from app.core.extensions import csrf
from app.core.scheduling import register_job_installer
from app.core.unit_of_work import discard_changes
from app.wecom.crypto import CallbackCrypto, CallbackRejected
from app.wecom.setup import callback_crypto

logger = logging.getLogger(__name__)


@bp.record_once
def _install_scheduler_jobs(state) -> None:
    """``flask scheduler run`` adds the connector's jobs (only when WeCom is configured)."""
    register_job_installer(state.app, jobs.install_jobs)


def _checked_crypto() -> CallbackCrypto:
    """The callback crypto after the timestamp check; 404 unconfigured, 403 stale."""
    crypto = callback_crypto()
    if crypto is None:
        abort(404)
    stamp = request.args.get("timestamp", "")
    max_age = current_app.config["WECOM_CALLBACK_MAX_AGE_SECONDS"]
    if not stamp.isdigit() or abs(time.time() - int(stamp)) > max_age:
        logger.warning("wecom callback refused: stale or missing timestamp")
        abort(403)
    return crypto


def _verified_plaintext(crypto: CallbackCrypto, encrypted: str) -> str:
    try:
        crypto.verify(request.args.get("msg_signature", ""), request.args["timestamp"],
                      request.args.get("nonce", ""), encrypted)
        return crypto.decrypt(encrypted)
    except CallbackRejected as error:
        logger.warning("wecom callback refused: %s", error)
        abort(403)


@bp.route("/wecom/callback", methods=["GET"])
def callback_verify():
    """URL verification: answer the decrypted ``echostr`` as plain text."""
    crypto = _checked_crypto()
    plain = _verified_plaintext(crypto, request.args.get("echostr", ""))
    return plain, 200, {"Content-Type": "text/plain; charset=utf-8"}


@bp.route("/wecom/callback", methods=["POST"])
@csrf.exempt
def callback_event():
    """A WeCom event: verify, decrypt, store once; 200 with an empty body (duplicates too)."""
    crypto = _checked_crypto()
    try:
        envelope = contact_events.parse_xml(request.get_data())
        fields = contact_events.parse_xml(
            _verified_plaintext(crypto, envelope.get("Encrypt", "")))
        contact_events.record_event(fields, utcnow())
    except DomainError as error:
        logger.warning("wecom callback refused: %s", error.message)
        abort(400)
    return "", 200


@bp.route("/posts/<int:post_id>/withdraw", methods=["POST"])
@permission_required(Action.withdraw_posts)
def withdraw_post(post_id: int):
    """Withdraw a published post with a reason (editors, reviewers)."""
    form = WithdrawForm()
    back = url_for("broadcasts.tracking", date=request.form.get("date") or None)
    if not form.validate_on_submit():
        for messages in form.errors.values():
            flash("；".join(messages), "error")
        return redirect(back)
    try:
        post = withdraw.withdraw_post(current_user, post_id, form.reason.data, utcnow())
    except DomainError as error:
        discard_changes()
        flash(error.message, "error")
        return redirect(back)
    flash(f"已撤回 {post.run_date.isoformat()} 的内容，群发任务将在企业微信中停止", "success")
    return redirect(back)


@bp.app_template_global("post_withdrawal")
def post_withdrawal(post_id: int):
    """Template global for 日跟踪: the post's withdrawal (reason, who, when) or ``None``."""
    return withdraw.withdrawal_of(post_id)


@bp.app_template_global("post_reminders")
def post_reminders(post_id: int) -> list:
    """Template global for 日跟踪: reminders 催办 sent for the post, in the viewer's scope."""
    return withdraw.reminders_of(current_user, post_id)


@bp.app_template_global("withdraw_form")
def withdraw_form() -> WithdrawForm:
    """Template global: an empty withdraw form (CSRF token and reason field)."""
    return WithdrawForm(formdata=None)
