"""Size limits that keep the code readable (docs/architecture.md): no module over 500 lines and no function over
60 lines, outside migrations, tests and benchmarks. A module that grows past the limit becomes a package; a
function that does, several named steps."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60
SKIPPED = {".venv", "tests", "bench", "migrations", "node_modules", "staticfiles", "var"}


def _modules() -> list[Path]:
    return [p for p in sorted(ROOT.rglob("*.py")) if not SKIPPED & set(p.relative_to(ROOT).parts)]


def _long_functions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]


def test_the_check_sees_the_application_code():
    names = {str(p.relative_to(ROOT)) for p in _modules()}
    assert {"races/models.py", "races/services/sync.py", "payouts/services.py", "manage.py"} <= names
    assert not any(name.startswith(("tests/", "bench/")) or "/migrations/" in name for name in names)


def test_no_module_passes_500_lines():
    long = [f"{p.relative_to(ROOT)} ({n} lines)" for p in _modules() if (n := len(p.read_text().splitlines())) > 500]
    assert long == []


def test_no_function_passes_60_lines():
    assert [f for p in _modules() for f in _long_functions(p)] == []


def test_the_function_check_counts_a_long_function(tmp_path, monkeypatch):
    sample = tmp_path / "sample.py"
    sample.write_text("def short():\n    return 1\n\n\ndef long():\n" + "    x = 1\n" * 60 + "    return x\n")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert _long_functions(sample) == ["sample.py:5 long (62 lines)"]
