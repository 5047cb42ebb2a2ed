"""Timing helper shared by the bench scripts (numbers are printed, never asserted)."""

from __future__ import annotations

import time


def best(fn, repeat: int = 1) -> tuple[float, object]:
    """Run ``fn`` ``repeat`` times; return (fastest wall time in seconds, last result)."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result
