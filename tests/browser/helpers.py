"""Helpers of the real-browser journeys (xdist group, screenshots, image loading)."""

from __future__ import annotations

from pathlib import Path

DEMO_DATE = "2025-04-25"  # BUSINESS_DATE of the live server; inside the snapshot
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot as ``test-artifacts/<name>.png`` (gitignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def wait_image_loaded(page, locator) -> int:
    """Wait until an ``<img>`` has decoded a real image; returns its ``naturalWidth``."""
    locator.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                           arg=locator.element_handle())
    return locator.evaluate("img => img.naturalWidth")


def browser_group(item) -> str:
    """The xdist group of every browser journey's test: ``browser`` (one worker runs them)."""
    return "browser"
