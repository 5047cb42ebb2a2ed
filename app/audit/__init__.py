"""The audit log 审计日志 (layer 2, beside org and auth): one append-only, hash-chained log.

Every recorded action (template create, edit, submit, approve, reject, retire; SOP plan
create, edit, pause; post withdraw; user and branch changes; imports) is one
:class:`~app.audit.models.AuditEvent`: who, when (UTC), the action, the object's type, id
and version, the content hash, the fields before and after, and the hash of the previous
entry. :func:`~app.audit.chain.record` appends, :func:`~app.audit.chain.verify` checks the
chain (``flask audit verify``).
"""

from flask import Blueprint

bp = Blueprint("audit", __name__, url_prefix="/audit")

from app.audit import views  # noqa: E402,F401  (routes register on bp)
