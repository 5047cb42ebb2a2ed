"""Names that go into checked text: staff display names and branch names.

The daily run substitutes ``staff.name`` and ``staff.branch`` into a text whose literal part
was checked once (``app.broadcasts.plan_texts``), so the names themselves must be clean.
They are checked when a user or branch is saved (``app.admin``): :func:`name_findings`
gives the blocking findings (every forbidding rule, product unknown: the strictest set),
and a clean name gets the marker :func:`name_check_sha256`, which the daily run compares
to skip it. The marker covers the rules file too, so a change of the rules makes every
name count as unchecked again.
"""

from __future__ import annotations

import functools
import hashlib

from app.compliance.checker import blocking, check_text
from app.compliance.findings import Finding
from app.compliance.rules import RULES_PATH


@functools.cache
def _rules_sha256() -> str:
    return hashlib.sha256(RULES_PATH.read_bytes()).hexdigest()


def name_findings(name: str) -> list[Finding]:
    """The blocking findings of a name with every forbidding rule (product unknown).

    :param name: a display name or branch name as stored.
    :returns: blocking :class:`Finding` objects, offsets in ``name``; ``[]`` if clean.
    """
    return blocking(check_text(name, None, kinds=["forbid"]))


def name_check_sha256(name: str) -> str:
    """The marker stored with a name that passed :func:`name_findings` (hex SHA-256).

    :param name: the name as stored.
    :returns: SHA-256 of the shipped rules file's digest and the UTF-8 name.
    """
    return hashlib.sha256(f"{_rules_sha256()}\n{name}".encode()).hexdigest()


def name_error(name: str, label: str) -> str | None:
    """Chinese error for a name with a blocking finding, or ``None`` if it may be saved.

    :param label: what the name is, e.g. ``显示名`` or ``机构名称``.
    :returns: e.g. 「显示名含有不合规内容（规则 FD-01：保本）：该名称会出现在发送给客户的
        内容中，请修改」.
    """
    findings = name_findings(name)
    if not findings:
        return None
    hits = "；".join(f"规则 {f.rule_id}：{name[f.start:f.end] or f.message}" for f in findings)
    return f"{label}含有不合规内容（{hits}）：该名称会出现在发送给客户的内容中，请修改"
