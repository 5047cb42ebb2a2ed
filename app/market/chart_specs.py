"""Chart specs: the TOML files in ``CHART_SPEC_DIR`` (``charts/`` by default).

A spec file holds ``name`` (file stem, used in URLs and templates as
``charts.<name>``), ``title`` (Chinese, drawn on the image), ``kind`` (``rebased``,
``price_ma`` or ``panels``), ``series`` (codes from ``app.market.instruments``),
``window`` (trading days shown), ``source`` (text after "数据来源："), and per kind
``base`` (rebased, default 100) or ``moving_averages`` (price_ma, trading days).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from app.core.errors import NotFound
from app.market.instruments import SERIES

KINDS = ("rebased", "price_ma", "panels")


@dataclass(frozen=True)
class ChartSpec:
    """One validated chart spec (see the module docstring for the fields)."""

    name: str
    title: str
    kind: str
    series: tuple[str, ...]
    window: int
    source: str
    base: float = 100.0
    moving_averages: tuple[int, ...] = ()

    @property
    def bars_needed(self) -> int:
        """Bars to load per series: the window plus the longest moving-average lookback."""
        return self.window + max(self.moving_averages, default=1) - 1


def parse_spec(data: dict, origin: str) -> ChartSpec:
    """Validate a decoded TOML spec.

    :param data: the ``tomllib`` result.
    :param origin: file name used in error messages.
    :returns: the ``ChartSpec``.
    :raises ValueError: naming the file and the offending field.
    """
    missing = [key for key in ("name", "title", "kind", "series", "window", "source")
               if key not in data]
    if missing:
        raise ValueError(f"{origin}: missing {', '.join(missing)}")
    if data["kind"] not in KINDS:
        raise ValueError(f"{origin}: kind must be one of {KINDS}, got {data['kind']!r}")
    unknown = [code for code in data["series"] if code not in SERIES]
    if unknown or not data["series"]:
        raise ValueError(f"{origin}: unknown or empty series {unknown}")
    window = data["window"]
    if not isinstance(window, int) or window < 2:
        raise ValueError(f"{origin}: window must be an integer >= 2")
    averages = tuple(int(n) for n in data.get("moving_averages", ()))
    if any(n < 2 for n in averages):
        raise ValueError(f"{origin}: moving_averages must be >= 2")
    return ChartSpec(
        name=str(data["name"]), title=str(data["title"]), kind=data["kind"],
        series=tuple(data["series"]), window=window, source=str(data["source"]),
        base=float(data.get("base", 100.0)), moving_averages=averages,
    )


def _spec_dir() -> Path:
    return Path(current_app.config["CHART_SPEC_DIR"])


def load_specs() -> list[ChartSpec]:
    """All specs in ``CHART_SPEC_DIR``, sorted by name.

    :returns: the validated specs.
    :raises ValueError: if a file is invalid or its ``name`` differs from its stem.
    """
    specs = []
    for path in sorted(_spec_dir().glob("*.toml")):
        with path.open("rb") as handle:
            spec = parse_spec(tomllib.load(handle), path.name)
        if spec.name != path.stem:
            raise ValueError(f"{path.name}: name {spec.name!r} must equal the file stem")
        specs.append(spec)
    return specs


def load_spec(name: str) -> ChartSpec:
    """The spec called ``name``.

    :param name: spec name, e.g. ``"gold"``.
    :returns: the validated spec.
    :raises NotFound: when no such spec file exists.
    """
    for spec in load_specs():
        if spec.name == name:
            return spec
    raise NotFound(f"图表规格不存在：{name}")
