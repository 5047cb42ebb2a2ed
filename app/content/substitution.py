"""Render once, substitute the staff fields: the daily run's shortcut, byte for byte.

A template that uses ``staff`` only as ``{{ staff.name }}`` and ``{{ staff.branch }}``
(printed as they are: no filter, no test, no condition, not captured by ``set``, a macro
or a filter block) renders to the same text for every staff member except at those
places. The daily run renders such a template once with :data:`MARKERS` as the staff
fields, splits the text at the markers into *segments* and composes each staff member's
text from them (:func:`compose`), which is exactly the text a per-staff render gives.
Any other template falls back to one render per staff member.

Segments are a list of strings: even positions are literal text, odd positions the name
of a staff field (``"name"`` or ``"branch"``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from jinja2 import TemplateSyntaxError, nodes

from app.rendering.sandbox import parse_body

#: Staff fields for the one render: private-use characters, never in editor text.
MARKERS = {"name": "\ue000staff.name\ue001", "branch": "\ue000staff.branch\ue001"}
_FIELD_OF = {marker: field for field, marker in MARKERS.items()}
_SPLIT = re.compile("(" + "|".join(map(re.escape, MARKERS.values())) + ")")
#: Nodes whose output goes straight into the text (anything else may capture or transform it).
_PASS_THROUGH = (nodes.Template, nodes.Output, nodes.If, nodes.For, nodes.With, nodes.Scope)


def prints_staff_fields_only(body: str) -> bool:
    """True when ``body`` uses ``staff`` only as plain ``{{ staff.name }}``, ``{{ staff.branch }}``.

    :param body: template source.
    :returns: ``False`` also for a body that does not parse (its per-staff render reports
        the error) or that contains the marker characters.
    """
    if "\ue000" in body or "\ue001" in body:
        return False
    try:
        tree = parse_body(body)
    except TemplateSyntaxError:
        return False
    return _staff_printed_plainly(tree, outside=True)


def _staff_printed_plainly(node: nodes.Node, outside: bool) -> bool:
    """Walk the tree; every ``staff`` name must be ``staff.name|branch`` printed directly."""
    for child in node.iter_child_nodes():
        if isinstance(child, nodes.Getattr) and isinstance(child.node, nodes.Name) \
                and child.node.name == "staff":
            if not (outside and isinstance(node, nodes.Output)
                    and child.attr in MARKERS):
                return False
            continue
        if isinstance(child, nodes.Name) and child.name == "staff":
            return False
        inside = outside and isinstance(node, _PASS_THROUGH)
        if not _staff_printed_plainly(child, inside):
            return False
    return True


def segments_of(text: str) -> list[str]:
    """Split a text rendered with :data:`MARKERS` into segments (literal, field, literal, …)."""
    parts = _SPLIT.split(text)
    return [part if index % 2 == 0 else _FIELD_OF[part] for index, part in enumerate(parts)]


def compose(segments: Sequence[str], staff: Mapping[str, str]) -> str:
    """The text of one staff member: literal segments plus their ``name`` / ``branch``.

    :param segments: from :func:`segments_of`.
    :param staff: ``{"name": ..., "branch": ...}`` (``app.rendering.sandbox.staff_fields``).
    """
    return "".join(part if index % 2 == 0 else staff[part]
                   for index, part in enumerate(segments))


def composed_length_bound(segments: Sequence[str], longest: Mapping[str, int]) -> int:
    """An upper bound of the length of :func:`compose`, from the longest value of each field.

    :param longest: field → length in characters of its longest value among the staff.
    """
    return sum(len(part) if index % 2 == 0 else longest[part]
               for index, part in enumerate(segments))
