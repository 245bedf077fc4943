"""The package's shape: no import cycles between its parts, no module over 400 lines, no
'# fmt: skip'. Read from the source (ast), so function-level imports count too."""

from __future__ import annotations

import ast
import re
from itertools import pairwise
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "installation"
MAX_LINES = 400
TOO_LONG_ALLOWED: set[str] = set()
APP_MODULES = {"app"}  # the running show is one package

Edge = tuple[str, int]  # where an import was seen: file (relative to the package), line


def part_of(root: Path, module: str) -> str | None:
    """The top-level part ('core', 'errors', 'app' ...) a dotted module lives in, or None
    for the package itself and anything outside it."""
    name = root.name
    if module == name or not module.startswith(name + "."):
        return None
    top = module.split(".")[1]
    return "app" if top in APP_MODULES else top


def _module_name(root: Path, path: Path) -> str:
    rel = path.relative_to(root.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported(root: Path, path: Path, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The dotted modules an import statement names (relative imports resolved; for
    `from pkg import name`, pkg.name when that is a module, else pkg)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = _module_name(root, path).split(".")
        if path.name != "__init__.py":
            package.pop()
        package = package[: len(package) - (node.level - 1)]
        base = ".".join([*package, base]) if base else ".".join(package)
    out = []
    for alias in node.names:
        sub = root.parent.joinpath(*base.split("."), alias.name)
        is_module = sub.with_suffix(".py").is_file() or (sub / "__init__.py").is_file()
        out.append(f"{base}.{alias.name}" if is_module else base)
    return out


def import_graph(root: Path) -> dict[str, dict[str, Edge]]:
    """part -> {imported part: first place seen}, over every import in every module."""
    graph: dict[str, dict[str, Edge]] = {}
    for path in sorted(root.rglob("*.py")):
        here = part_of(root, _module_name(root, path))
        if here is None:  # the package's own __init__.py
            continue
        graph.setdefault(here, {})
        tree = ast.parse(path.read_text("utf-8"), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for module in _imported(root, path, node):
                there = part_of(root, module)
                if there is not None and there != here:
                    where = (str(path.relative_to(root)), node.lineno)
                    graph[here].setdefault(there, where)
    return graph


def find_cycle(graph: dict[str, dict[str, Edge]]) -> list[str] | None:
    """One cycle as [a, b, ..., a], or None when the graph has none."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, {})):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None


def describe(cycle: list[str], graph: dict[str, dict[str, Edge]]) -> str:
    steps = [f"  {a} -> {b} ({':'.join(map(str, graph[a][b]))})" for a, b in pairwise(cycle)]
    return "import cycle between parts of installation/:\n" + "\n".join(steps)


# -- the package -------------------------------------------------------------------------
def test_no_import_cycle_between_the_parts_of_the_package() -> None:
    graph = import_graph(PACKAGE)
    assert {"core", "show", "engines", "worker", "cache", "storage", "app"} <= graph.keys()
    cycle = find_cycle(graph)
    assert cycle is None, describe(cycle, graph)


def test_the_core_imports_no_other_part() -> None:
    assert import_graph(PACKAGE)["core"] == {}


def test_no_module_is_over_400_lines() -> None:
    too_long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = str(path.relative_to(PACKAGE))
        lines = len(path.read_text("utf-8").splitlines())
        if lines > MAX_LINES and rel not in TOO_LONG_ALLOWED:
            too_long.append(f"{rel}: {lines} lines")
    assert not too_long, f"split these along a seam (at most {MAX_LINES} lines): {too_long}"


def test_no_fmt_skip() -> None:
    marker = re.compile(r"#\s*fmt:\s*(skip|off)")
    found = [
        f"{path.relative_to(PACKAGE)}:{n}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for n, line in enumerate(path.read_text("utf-8").splitlines(), start=1)
        if marker.search(line)
    ]
    assert not found, f"write these lines the way the formatter does: {found}"


# -- the checker itself, on a package made for it ------------------------------------------
def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "installation"
    for name, text in {"__init__.py": "", **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_the_checker_finds_a_cycle_through_a_function_level_relative_import(
    tmp_path: Path,
) -> None:
    root = _package(
        tmp_path,
        {
            "a/__init__.py": "",
            "a/one.py": "from installation.b import two\n",
            "b/__init__.py": "",
            "b/two.py": "def late():\n    from ..a import one\n",
            "c.py": "from installation import a\n",
        },
    )
    graph = import_graph(root)
    assert graph["a"] == {"b": ("a/one.py", 1)}
    assert graph["b"] == {"a": ("b/two.py", 2)}
    assert graph["c"] == {"a": ("c.py", 1)}
    cycle = find_cycle(graph)
    assert cycle == ["a", "b", "a"]
    assert "b -> a (b/two.py:2)" in describe(cycle, graph)
