"""The compliance package stays pure Python: no Flask, SQLAlchemy or other ``app`` package."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from app.compliance import Finding, Severity, check_text, most_severe

PACKAGE = Path(__file__).resolve().parents[2] / "app" / "compliance"
FORBIDDEN_ROOTS = {"flask", "sqlalchemy", "werkzeug", "jinja2", "wtforms", "alembic"}


def _imported_modules(path: Path) -> set[str]:
    """Absolute names of every module a file imports, at any depth (functions included)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import: resolve against app.compliance
                names.add(".".join(filter(None, ["app.compliance", node.module])))
            else:
                names.add(node.module)
    return names


def _is_forbidden(module: str) -> bool:
    root = module.split(".")[0]
    if root in FORBIDDEN_ROOTS or root.startswith("flask_"):
        return True
    return root == "app" and module != "app.compliance" and not module.startswith(
        "app.compliance.")


def test_forbidden_import_detection_works():
    assert _is_forbidden("flask") and _is_forbidden("flask_login.utils")
    assert _is_forbidden("sqlalchemy.orm") and _is_forbidden("app.content.models")
    assert _is_forbidden("app") and _is_forbidden("app.core.db")
    assert not _is_forbidden("app.compliance.rules") and not _is_forbidden("pypinyin")


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_module_source_imports_nothing_forbidden(path):
    imported = _imported_modules(path)
    assert imported, path  # every module imports something; an empty set means a broken scan
    assert sorted(m for m in imported if _is_forbidden(m)) == []


# Loads the package by file path under a bare ``app`` namespace, so ``app/__init__.py`` (which
# imports Flask) never runs, then exercises every module, including lazily imported libraries.
_PROBE = """
import importlib, pkgutil, sys, types
root = types.ModuleType("app")
root.__path__ = [{app_dir!r}]
sys.modules["app"] = root
import app.compliance as compliance
for info in pkgutil.iter_modules(compliance.__path__):
    importlib.import_module("app.compliance." + info.name)
findings = compliance.check_text("本產品保本保息，bao本！稳.赚 不赔", "fund")
assert compliance.blocking(findings), findings
loaded = sorted(name for name in sys.modules if name.split(".")[0] in {forbidden!r}
                or name.startswith("flask_")
                or (name.startswith("app.") and not name.startswith("app.compliance")))
print(" ".join(loaded))
"""


def test_package_loads_and_checks_without_flask_or_sqlalchemy():
    code = _PROBE.format(app_dir=str(PACKAGE.parent), forbidden=FORBIDDEN_ROOTS)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_severity_ranking():
    assert [s.value for s in Severity] == ["block", "warn"]
    assert Severity.block.rank < Severity.warn.rank
    assert most_severe([Severity.warn, Severity.block]) is Severity.block
    assert most_severe([Severity.warn]) is Severity.warn
    with pytest.raises(ValueError):
        most_severe([])


def test_findings_are_frozen_and_carry_severity_members():
    finding = check_text("保本", "fund")[0]
    assert isinstance(finding, Finding) and finding.severity is Severity.block
    assert finding.is_blocking and (finding.start, finding.end) == (0, 2)
    with pytest.raises(AttributeError):
        finding.start = None
    render_only = Finding("TPL-RENDER", Severity.warn, None, None, "m", "c")
    assert not render_only.is_blocking and render_only.start is None
