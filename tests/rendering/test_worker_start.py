"""A render worker loads the renderer, not the application (``app.rendering.isolation``)."""

from __future__ import annotations

import pytest

from app.rendering.budget import RenderBudget
from app.rendering.isolation import render_isolated, run_in_worker
from tests.rendering.probe import loaded_modules

pytestmark = pytest.mark.timeout(60)


def test_a_render_worker_imports_the_renderer_and_nothing_of_the_application(app):
    with app.app_context():
        assert render_isolated("{{ 6 * 7 }}", {}) == "42"
        loaded = set(run_in_worker(loaded_modules, (), RenderBudget()))
    assert {"app.rendering.worker", "app.rendering.sandbox", "jinja2.sandbox"} <= loaded
    application = sorted(name for name in loaded if name.startswith("app.")
                         and not name.startswith(("app.rendering", "app.core")))
    assert application == []
    assert not loaded & {"matplotlib", "pandas", "numpy", "pypinyin", "exchange_calendars"}

