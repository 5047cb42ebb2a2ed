"""Compliance engine 合规检查 (layer 3): rules, normalization and findings for Chinese text.

Pure Python (stdlib, OpenCC, pypinyin): nothing here imports Flask, SQLAlchemy or another
``app`` package, so callers above (``content``, ``broadcasts``) use it on plain strings.

- :func:`check_text` checks a text and returns :class:`Finding` objects;
- :func:`blocking` keeps those that prevent approval and publication;
- :class:`Severity` (``block``/``warn``) ranks them; :func:`most_severe` picks the worst.
"""

from app.compliance.checker import blocking, check_text
from app.compliance.findings import Finding, Severity, most_severe
from app.compliance.rules import KINDS, PRODUCTS, RULES_PATH, Rule, RuleSet, load_rules

__all__ = [
    "KINDS", "PRODUCTS", "RULES_PATH", "Finding", "Rule", "RuleSet", "Severity", "blocking",
    "check_text", "load_rules", "most_severe",
]
