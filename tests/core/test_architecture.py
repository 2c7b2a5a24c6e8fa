"""The dependency direction of docs/architecture.md, checked on the source: imports point one way.

Every Python module of every app is parsed (nothing is imported), each `import` of another app is an edge, and:
- core imports no app;
- there is no cycle between apps;
- every edge points down the layer order below, so a new edge that would allow a cycle fails at once;
- an app imports another only at module level, where a reader sees it (no imports hidden inside functions);
- the feed package inside races (client, sync steps, ranks, leaderboards) imports nothing of the race engine or
  the app's adapters: the engine builds on the feed, never the other way.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Lowest layer first: an app may import only the apps listed before it (docs/architecture.md).
LAYERS = [
    "core", "notifications", "vip", "races", "payouts", "giveaways", "overlays",
    "accounts", "support", "experiments", "growth", "telegram_bot", "goatedvips",
]  # fmt: skip
# Packages inside an app that sit below the rest of it: their modules import nothing else of the app.
INNER_LAYERS = {"races.feed": "races"}


def _apps() -> list[str]:
    return sorted(p.parent.name for p in ROOT.glob("*/apps.py"))


def _imported(node: ast.AST) -> list[str]:
    """The absolute module names an import statement names (none for any other node)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        return [node.module]
    return []


def _imports(app: str) -> list[tuple[str, int, str, bool]]:
    """(module path, line, imported app, inside a function?) for every import of another app in `app`."""
    found = []
    apps = set(_apps())
    for path in sorted((ROOT / app).rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        in_function: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                in_function.update(id(child) for child in ast.walk(node) if child is not node)
        for node in ast.walk(tree):
            for name in _imported(node):
                target = name.split(".")[0]
                if target in apps and target != app:
                    found.append((str(path.relative_to(ROOT)), node.lineno, target, id(node) in in_function))
    return found


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for app in _apps():
        graph[app]
        for _path, _line, target, _lazy in _imports(app):
            graph[app].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one app (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def test_every_app_has_a_place_in_the_layer_order():
    assert sorted(LAYERS) == _apps()


def test_core_imports_no_app():
    assert [f"{path}:{line} imports {target}" for path, line, target, _ in _imports("core")] == []


def test_there_is_no_import_cycle_between_apps():
    assert _cycles(_graph()) == []


def test_every_import_between_apps_points_down_the_layers():
    upward = [
        f"{path}:{line}: {app} imports {target}, which sits above it"
        for app in _apps()
        for path, line, target, _lazy in _imports(app)
        if LAYERS.index(target) > LAYERS.index(app)
    ]
    assert upward == []


def test_no_app_imports_another_inside_a_function():
    hidden = [
        f"{path}:{line}: {app} imports {target} inside a function"
        for app in _apps()
        for path, line, target, lazy in _imports(app)
        if lazy
    ]
    assert hidden == []


def test_the_cycle_check_finds_a_cycle():
    """The checker itself: a graph with a cycle is reported, a layered one is not."""
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_every_document_the_code_and_docs_cite_exists():
    cited = set()
    for pattern in ("**/*.py", "**/*.md", "**/*.html", "**/*.js", "Makefile"):
        for path in ROOT.glob(pattern):
            if ".venv" in path.parts or "node_modules" in path.parts:
                continue
            cited.update(re.findall(r"\bdocs/[\w-]+\.md\b", path.read_text(errors="replace")))
    assert sorted(doc for doc in cited if not (ROOT / doc).exists()) == []


def _inner_imports(package: str) -> list[str]:
    """Imports of the rest of the app from inside `package` (anywhere in a module, functions too)."""
    app = INNER_LAYERS[package]
    found = []
    for path in sorted((ROOT / package.replace(".", "/")).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            for name in _imported(node):
                inside_app = name == app or name.startswith(f"{app}.")
                if inside_app and not (name == package or name.startswith(f"{package}.")):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {name}")
    return found


def test_the_feed_package_imports_nothing_of_the_race_engine():
    assert _inner_imports("races.feed") == []


def test_the_inner_layer_check_finds_an_import_of_the_engine(tmp_path, monkeypatch):
    """The checker itself: a feed module that imports the engine is reported."""
    package = tmp_path / "races" / "feed"
    package.mkdir(parents=True)
    (package / "bad.py").write_text("from races.services.standings import races_refresh_after_sync\n")
    (package / "good.py").write_text("from races.feed.models import Player\n")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert _inner_imports("races.feed") == ["races/feed/bad.py:1 imports races.services.standings"]
