"""The shape of the code, locked in (docs/architecture.md).

import-linter (`make lint`) holds the layers; these tests hold what it does
not: no import cycle at all, imports inside functions included; modules of a
readable size; long functions that say why they are long.
"""

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("config", "flows", "documents", "audit")
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60
# Data, not logic: the preset flow and the demo's cases are tables.
DATA_MODULES = {"flows/presets.py", "flows/demo/data.py"}


def _modules() -> dict[str, Path]:
    found = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            candidates = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        targets.update(c for c in candidates if c in MODULES and c != name)
    return targets


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
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
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_import_graph_has_no_cycle():
    graph = defaultdict(set)
    for name, path in MODULES.items():
        graph[name] |= _imports(name, path)
    assert _cycles(graph) == []


def test_the_engine_imports_no_other_app():
    for name, path in MODULES.items():
        if name.startswith("flows.engine"):
            assert not {t for t in _imports(name, path) if t.startswith("documents")}


def test_no_module_is_over_500_lines():
    too_long = {
        str(path.relative_to(ROOT)): n
        for path in MODULES.values()
        if (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES
        and str(path.relative_to(ROOT)) not in DATA_MODULES
    }
    assert too_long == {}


def _explained(lines: list[str], node: ast.AST) -> bool:
    """A comment right above the function (or its decorators) says why."""
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    above = lines[first - 2].strip() if first >= 2 else ""
    return above.startswith("#")


def test_long_functions_say_why():
    unexplained = []
    for path in MODULES.values():
        text = path.read_text()
        lines = text.splitlines()
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES and not _explained(lines, node):
                    unexplained.append(
                        f"{path.relative_to(ROOT)}:{node.name} ({length})"
                    )
    assert unexplained == []
