"""The demo bank: deterministic seed data for ``make run`` (top layer: uses every package)."""
