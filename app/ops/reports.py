"""Generated reports: the scorecard CSV built in the background and kept in storage.

The first user of the task queue (``app.core.tasks``): ``flask tasks scorecard-report``
(and any later web button) calls :func:`request_scorecard_report`, which queues
:func:`generate_scorecard_report`. The task computes the scorecard with the requesting
user's data scope, exactly as the 考核看板 page does, and stores the CSV in the
``reports`` storage area under :func:`report_key`; running it again overwrites the same
key with the same content (idempotent, as a redelivered message requires).
"""

from __future__ import annotations

import datetime as dt
import logging

from app.core.errors import NotFound
from app.core.extensions import db
from app.core.storage import storage
from app.core.tasks import enqueue, task
from app.metrics.export import scorecard_csv
from app.metrics.services import scorecard
from app.org.models import User

logger = logging.getLogger(__name__)


def report_key(user_id: int, branch_id: int | None, start: dt.date, end: dt.date) -> str:
    """Storage key of a scorecard report, e.g. ``scorecard/u7/b3/2025-04-01_2025-04-25.csv``."""
    scope = f"b{branch_id}" if branch_id is not None else "bank"
    return f"scorecard/u{user_id}/{scope}/{start.isoformat()}_{end.isoformat()}.csv"


@task(queue_name="reports", max_retries=3, time_limit_seconds=900)
def generate_scorecard_report(user_id: int, branch_id: int | None, start_iso: str,
                              end_iso: str) -> str:
    """Compute the scorecard for ``user_id``'s scope and store it as CSV.

    :param user_id: the requesting user (their data scope applies).
    :param branch_id: subtree root, ``None`` for the user's default scope.
    :param start_iso: first run date, ``YYYY-MM-DD`` (Asia/Shanghai calendar).
    :param end_iso: last run date, inclusive.
    :returns: the storage key written.
    :raises NotFound: the user does not exist; ``PermissionDenied`` out of scope.
    """
    viewer = db.session.get(User, user_id)
    if viewer is None:
        raise NotFound("用户不存在")
    start, end = dt.date.fromisoformat(start_iso), dt.date.fromisoformat(end_iso)
    card = scorecard(viewer, branch_id, start, end)
    key = report_key(user_id, branch_id, start, end)
    storage("reports").put(key, scorecard_csv(card), "text/csv; charset=utf-8")
    logger.info("scorecard report user_id=%s branch_id=%s stored key=%s", user_id, branch_id,
                key)
    return key


def request_scorecard_report(user_id: int, branch_id: int | None, start: dt.date,
                             end: dt.date) -> tuple[str, str | None]:
    """Queue :func:`generate_scorecard_report`.

    :returns: ``(storage key the report will have, message id or None when run in-process)``.
    """
    message_id = enqueue(generate_scorecard_report, user_id, branch_id, start.isoformat(),
                         end.isoformat())
    return report_key(user_id, branch_id, start, end), message_id
