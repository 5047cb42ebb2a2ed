"""Run inside a render worker by ``test_worker_start``; imports nothing of the application."""

import sys


def loaded_modules() -> list[str]:
    """The names of the modules loaded in this process."""
    return sorted(sys.modules)
