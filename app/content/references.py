"""Which market series a template body quotes, for the freshness check of the daily run.

``market.SSE`` and ``market["SSE"]`` name a series directly. Any other use of ``market``
(``market[code]`` in a loop, ``market.items()``) is resolved by the string constants of the
body that are series codes (``{% for code in ["SSE", "HSI"] %}``); when there are none, the
body may read any series and the caller checks them all.
"""

from __future__ import annotations

from jinja2 import TemplateSyntaxError, nodes

from app.market.instruments import SERIES
from app.rendering.sandbox import parse_body


def quoted_series(body: str) -> frozenset[str] | None:
    """Series codes that ``body`` reads from ``market``.

    :param body: template source.
    :returns: the codes (empty when the body does not use ``market``), or ``None`` when the
        body reads series it does not name, or does not parse (then every series counts).
    """
    try:
        tree = parse_body(body)
    except TemplateSyntaxError:
        return None
    named: set[str] = set()
    direct = 0  # uses of ``market`` that name a series
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        if isinstance(node.node, nodes.Name) and node.node.name == "market":
            key = node.attr if isinstance(node, nodes.Getattr) else getattr(node.arg, "value",
                                                                            None)
            if isinstance(key, str) and key in SERIES:
                named.add(key)
                direct += 1
    uses = sum(1 for node in tree.find_all(nodes.Name) if node.name == "market")
    if uses == direct:
        return frozenset(named)
    constants = {node.value for node in tree.find_all(nodes.Const)
                 if isinstance(node.value, str) and node.value in SERIES}
    return frozenset(named | constants) or None
