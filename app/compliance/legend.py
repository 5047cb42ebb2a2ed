"""Legend of the citation codes ([AL], [FPR], …) used in the rules, from RULES.md section 4."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

RULES_MD = Path(__file__).with_name("RULES.md")
_ENTRY = re.compile(r"^- \[([A-Z0-9-]+)\] (.+?)(?: — | \(|$)")


@cache
def citation_legend() -> dict[str, str]:
    """Citation code → source title, in RULES.md order (e.g. ``AL`` → 《中华人民共和国广告法》…).

    :returns: a dict read once per process from the vendored ``RULES.md`` section 4.
    """
    text = RULES_MD.read_text(encoding="utf-8").split("## 4.")[1].split("## 5.")[0]
    out = {}
    for line in text.splitlines():
        for m in _ENTRY.finditer(line):
            out[m.group(1)] = m.group(2).strip().rstrip(";,")
    return out
