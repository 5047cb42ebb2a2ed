"""The lowest layer: database base and helpers, extensions, errors, clock, forms, flashes, JSON.

Nothing in ``app.core`` imports another ``app`` package; every feature package may import it.
"""
