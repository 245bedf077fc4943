"""No module reads or writes another object's private attributes: only `self._x` and
`cls._x` (and the standard library's documented `os._exit`)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "installation"
ALLOWED = {("os", "_exit")}


def reaches(tree: ast.AST) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or not node.attr.startswith("_"):
            continue
        if node.attr.startswith("__") and node.attr.endswith("__"):
            continue  # dunders are protocol, not privacy
        owner = node.value
        name = owner.id if isinstance(owner, ast.Name) else None
        if name in ("self", "cls") or (name, node.attr) in ALLOWED:
            continue
        out.append((node.lineno, f"{ast.unparse(owner)}.{node.attr}"))
    return out


def test_the_rule_sees_a_reach() -> None:
    assert reaches(ast.parse("app._timed.append(1)\nself._ok = 1\nos._exit(0)")) == [
        (1, "app._timed")
    ]


def test_no_module_reaches_into_another_objects_privates() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for line, what in reaches(ast.parse(path.read_text("utf-8"))):
            found.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {what}")
    assert found == []
