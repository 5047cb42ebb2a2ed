"""The one finding type of the compliance engine and its severity scale."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass


class Severity(enum.Enum):
    """How serious a rule hit is; the values are what the rules file and the database store."""

    block = "block"  # prevents approval and publication
    warn = "warn"  # shown to the editor and the reviewer, publication allowed

    @property
    def rank(self) -> int:
        """Sort rank, most severe first: ``block`` 0, ``warn`` 1."""
        return _RANK[self]


_RANK = {Severity.block: 0, Severity.warn: 1}


def most_severe(severities: Iterable[Severity]) -> Severity:
    """The most severe of some severities (``block`` beats ``warn``).

    :param severities: at least one :class:`Severity`.
    :returns: the one with the lowest :attr:`Severity.rank`.
    :raises ValueError: when ``severities`` is empty.
    """
    return min(severities, key=_RANK.__getitem__)


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule hit on a text.

    ``start``/``end`` are character offsets (code points, ``end`` exclusive) into the text that
    was checked; an empty span (``start == end``) marks a missing required statement. Both are
    ``None`` when the hit cannot be placed in that text (e.g. it was seen only in a sample
    rendering of a template body).
    """

    rule_id: str
    severity: Severity
    start: int | None
    end: int | None
    message: str
    citation: str

    def to_dict(self) -> dict:
        """JSON shape: ``{"rule_id", "severity", "start", "end", "message", "citation"}``."""
        return {"rule_id": self.rule_id, "severity": self.severity.value, "start": self.start,
                "end": self.end, "message": self.message, "citation": self.citation}

    @property
    def is_blocking(self) -> bool:
        """True when this finding prevents approval and publication (severity ``block``)."""
        return self.severity is Severity.block
