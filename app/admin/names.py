"""Names that go into posts: staff display names and branch names, checked for compliance.

The daily run substitutes ``staff.name`` and ``staff.branch`` into texts it checked once, so
the names are checked where they are saved: :func:`checked_name` refuses a name with a
blocking finding and returns the marker to store (``name_check_sha256``).
:func:`mark_checked_names` does the same once for the rows saved before that check (or
renamed outside 系统管理, e.g. by ``flask users create``), so that the daily run need not
check them again (it checks unmarked names itself, once per run, as a safety net).
"""

from __future__ import annotations

import logging

from sqlalchemy import bindparam, select, update

from app.compliance import name_check_sha256, name_error
from app.core.errors import ValidationFailed
from app.core.extensions import db
from app.org.models import Branch, User

logger = logging.getLogger(__name__)


def checked_name(name: str, field: str, label: str) -> str:
    """The compliance marker of a name about to be saved (``app.compliance.names``).

    :param field: the form field the error belongs to.
    :param label: the Chinese name of the field for the message.
    :returns: the marker to store in ``name_check_sha256``.
    :raises ValidationFailed: the name has a blocking finding (per-field message).
    """
    message = name_error(name, label)
    if message:
        raise ValidationFailed(message, errors={field: [message]})
    return name_check_sha256(name)


def mark_checked_names() -> dict:
    """Check every display name and branch name without a valid marker, once per value.

    Clean names get their marker (one bulk UPDATE per table); names with a blocking finding
    are listed and left unmarked (the daily run then skips the plans that print them).
    Flushes; the caller commits.

    :returns: ``{"checked": distinct values checked, "marked": rows marked,
        "refused": [{"type": "user"|"branch", "id", "name", "message"}]}``.
    """
    tables = ((User, User.display_name, "user", "显示名"),
              (Branch, Branch.name, "branch", "机构名称"))
    rows = {kind: [(id_, str(name), marker) for id_, name, marker in db.session.execute(
                select(model.id, column, model.name_check_sha256))]
            for model, column, kind, _ in tables}
    errors: dict[tuple[str, str], str | None] = {}
    result = {"checked": 0, "marked": 0, "refused": []}
    for model, _, kind, label in tables:
        marks = []
        for id_, name, marker in rows[kind]:
            if marker == name_check_sha256(name):
                continue
            if (name, label) not in errors:
                errors[(name, label)] = name_error(name, label)
            if errors[(name, label)]:
                result["refused"].append({"type": kind, "id": id_, "name": name,
                                          "message": errors[(name, label)]})
            else:
                marks.append({"row_id": id_, "marker": name_check_sha256(name)})
        if marks:
            db.session.execute(update(model.__table__)
                               .where(model.__table__.c.id == bindparam("row_id"))
                               .values(name_check_sha256=bindparam("marker")), marks)
        result["marked"] += len(marks)
    result["checked"] = len(errors)
    logger.info("names checked=%s marked=%s refused=%s", result["checked"], result["marked"],
                len(result["refused"]))
    return result
