"""Peak resident memory of this process during a block (sampled from /proc every 50 ms)."""

from __future__ import annotations

import threading
from contextlib import contextmanager


def rss_bytes() -> int:
    """Current resident set size of this process (Linux ``/proc/self/status``)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


@contextmanager
def peak_rss():
    """Yield a dict whose ``peak`` (bytes) and ``start`` are filled when the block ends."""
    result = {"start": rss_bytes(), "peak": 0}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            result["peak"] = max(result["peak"], rss_bytes())
            stop.wait(0.05)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield result
    finally:
        stop.set()
        thread.join()
        result["peak"] = max(result["peak"], rss_bytes())
