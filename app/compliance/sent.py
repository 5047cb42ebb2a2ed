"""CH-01: staff send only the approved text; anything they add is checked by the same rules.

A front-line user copies the post's approved text and may add a short personal note
(``app.feed``). :func:`check_sent` compares what would be sent with the approved text: the
approved text must be there unchanged, and the rest (the note) is checked with
:func:`app.compliance.check_text`; :func:`text_sha256` is the hash the task records.
"""

from __future__ import annotations

import hashlib

from app.compliance.checker import check_text
from app.compliance.findings import Finding, Severity

RULE_ID = "CH-01"
CITATION = "[316] part 6 (staff may not self-write or repost unreviewed marketing) (S)"


def text_sha256(text: str) -> str:
    """Hex SHA-256 of the UTF-8 text (what the task records as the sent text's hash)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_sent(approved: str, sent: str, product: str | None = None, *,
               content_kind: str | None = None, channel: str | None = None
               ) -> list[Finding]:
    """Findings for a text about to be sent, against the approved text it came from.

    :param approved: the approved, rendered post text.
    :param sent: the text the staff member would send (approved text plus any note).
    :param product: product category value or ``None``; ``content_kind`` and ``channel`` as
        for :func:`app.compliance.check_text` (the channel's limit applies to the whole text).
    :returns: ``[]`` when ``sent == approved``; a blocking ``CH-01`` finding (no offsets)
        when the approved text is not contained unchanged; otherwise the findings of the
        added text, offsets into ``sent``, plus the channel limit on the whole text.
    """
    if text_sha256(sent) == text_sha256(approved):
        return []
    at = sent.find(approved)
    if not approved or at < 0:
        return [Finding(RULE_ID, Severity.block, None, None,
                        "发送内容须包含未经改动的已批准文本，不能删改", CITATION)]
    findings: list[Finding] = []
    for offset, part in ((0, sent[:at]), (at + len(approved), sent[at + len(approved):])):
        if part.strip():
            findings.extend(_shifted(f, offset) for f in check_text(
                part, product, kinds={"forbid"}, content_kind=content_kind))
    if channel is not None:
        findings.extend(f for f in check_text(sent, product, kinds=(), channel=channel))
    return findings


def _shifted(finding: Finding, offset: int) -> Finding:
    return Finding(finding.rule_id, finding.severity, finding.start + offset,
                   finding.end + offset, f"附言：{finding.message}", finding.citation)

