"""Compliance engine 合规检查 (layer 3): rules, normalization and findings for Chinese text.

Pure Python (stdlib, OpenCC, pypinyin, ahocorasick-rs): nothing here imports Flask, SQLAlchemy or
another ``app`` package, so callers above (``content``, ``broadcasts``, ``feed``) use it on plain
strings.

- :func:`check_text` checks a text and returns :class:`Finding` objects (content kind, channel
  limit and chart images included);
- :func:`check_sent` checks what a staff member sends against the approved text (CH-01);
- :func:`stale_series` tells which market data is too old for a market commentary;
- :func:`name_error` / :func:`name_check_sha256` check staff and branch names on save;
- :func:`blocking` keeps those that prevent approval and publication;
- :class:`Severity` (``block``/``warn``) ranks them; :func:`most_severe` picks the worst.
"""

from app.compliance.charts import ChartFacts, chart_findings
from app.compliance.checker import blocking, check_text
from app.compliance.findings import Finding, Severity, most_severe
from app.compliance.freshness import stale_series
from app.compliance.kinds import CHANNEL_LIMITS, CHANNELS, CONTENT_KINDS, over_limit, rule_scope
from app.compliance.legend import citation_legend
from app.compliance.names import name_check_sha256, name_error, name_findings
from app.compliance.rules import KINDS, PRODUCTS, RULES_PATH, Rule, RuleSet, load_rules
from app.compliance.sent import check_sent, text_sha256

__all__ = [
    "CHANNELS", "CHANNEL_LIMITS", "CONTENT_KINDS", "KINDS", "PRODUCTS", "RULES_PATH",
    "ChartFacts", "Finding", "Rule", "RuleSet", "Severity", "blocking", "chart_findings",
    "citation_legend",
    "check_sent", "check_text", "load_rules", "most_severe", "name_check_sha256", "name_error",
    "name_findings", "over_limit", "rule_scope",
    "stale_series", "text_sha256",
]
