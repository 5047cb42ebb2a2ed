"""Flash messages that belong to one task card on the 今日任务 page.

The phone page is long: after a form post the browser jumps to ``#task-N``, so a message
shown at the top of the page is out of sight. A task message carries the task id in its
flash category (``"error@task-12"``); base.html leaves these out of the page-wide list and
today.html shows them inside the card.
"""

from __future__ import annotations

from flask import flash

TASK_MARK = "@task-"


def flash_for_task(task_id: int, message: str, category: str = "info") -> None:
    """Flash ``message`` for the card of task ``task_id``.

    :param task_id: id of the task whose card shows the message.
    :param message: Chinese text shown to the user.
    :param category: ``success``, ``info`` or ``error`` (CSS class ``flash-<category>``).
    """
    flash(message, f"{category}{TASK_MARK}{task_id}")


def flash_form_errors_for_task(task_id: int, form) -> None:
    """Flash the first error of each invalid field of ``form`` on the task's card.

    Only the first error per field is shown: e.g. "abc" in a number field would otherwise
    also fail the range check and show two messages for one mistake.
    """
    for field in form:
        if field.errors:
            flash_for_task(task_id, f"{field.label.text}：{field.errors[0]}", "error")


def task_messages(messages: list[tuple[str, str]], task_id: int) -> list[tuple[str, str]]:
    """``(category, message)`` pairs flashed for ``task_id``, category without the task mark."""
    suffix = f"{TASK_MARK}{task_id}"
    return [(category.removesuffix(suffix), message) for category, message in messages
            if category.endswith(suffix)]


def page_messages(messages: list[tuple[str, str]], task_ids) -> list[tuple[str, str]]:
    """``(category, message)`` pairs for the top of the page.

    :param messages: all flashed ``(category, message)`` pairs of the request.
    :param task_ids: ids of the task cards on the page; a message for a task without a
        card (e.g. someone else's task, refused) is shown at the top instead.
    """
    shown = {f"{TASK_MARK}{task_id}" for task_id in task_ids}
    result = []
    for category, message in messages:
        base, mark, task_id = category.partition(TASK_MARK)
        if not mark or f"{mark}{task_id}" not in shown:
            result.append((base, message))
    return result
