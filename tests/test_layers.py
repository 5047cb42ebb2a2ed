"""The layers hold: import-linter's contracts, and no app imports hidden inside functions."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _function_level_app_imports() -> list[str]:
    found = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                names = ([node.module or ""] if isinstance(node, ast.ImportFrom)
                         else [alias.name for alias in node.names]
                         if isinstance(node, ast.Import) else [])
                if any(name == "app" or name.startswith("app.") for name in names):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_no_app_module_is_imported_inside_a_function():
    assert _function_level_app_imports() == []


def test_import_linter_contracts_are_kept():
    """The same check as ``make lint``; a new cycle or upward import fails here too."""
    command = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert command, "lint-imports is installed with the test extra (import-linter)"
    result = subprocess.run([command, "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "0 broken" in result.stdout
