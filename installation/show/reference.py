"""The show file reference, generated from the schema so it can never drift.

`python -m installation.show.reference --write` rewrites docs/show-file.md; a test
fails when the file and the schema disagree.
"""

from __future__ import annotations

import argparse
import json
import sys
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from installation.show.schema import Show

DOC = Path(__file__).resolve().parents[2] / "docs" / "show-file.md"

HEADER = """# Show file reference (`show.toml`)

A show is a folder `shows/<name>/` holding `show.toml` and its assets (paintings,
mask). Relative paths resolve inside the show folder. Every section and key is
optional; the defaults below apply. Unknown keys are errors (with a suggestion),
so a typo never passes silently. Check a show with `installation validate SHOW`.

This file is generated from `installation/show/schema.py`
(`python -m installation.show.reference --write`); a test keeps them in step.
"""


def _type_name(annotation: Any) -> str:
    text = str(annotation).replace("typing.", "").replace("pathlib.", "")
    text = text.replace("<class '", "").replace("'>", "")
    if typing.get_origin(annotation) is typing.Literal:
        return " \\| ".join(json.dumps(a) for a in typing.get_args(annotation))
    return text.replace("Path", "path").replace("NoneType", "none").replace("|", "\\|")


def _default(field: Any) -> str:
    if field.default_factory is not None:
        value = field.default_factory()
        if isinstance(value, BaseModel):
            return ""
    else:
        value = field.default
    if value is PydanticUndefined:
        return "required"
    if value is None:
        return "none"
    if isinstance(value, Path):
        return f'`"{value}"`'
    if isinstance(value, tuple):
        value = list(value)
    return f"`{json.dumps(value, ensure_ascii=False)}`"


def _table(model: type[BaseModel]) -> list[str]:
    rows = ["| key | type | default | meaning |", "|---|---|---|---|"]
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        desc = (field.description or "").replace("|", "\\|")
        rows.append(f"| `{name}` | {_type_name(field.annotation)} | {_default(field)} | {desc} |")
    return rows


def _nested(model: type[BaseModel]) -> list[tuple[str, type[BaseModel]]]:
    out = []
    for name, field in model.model_fields.items():
        args = typing.get_args(field.annotation)
        inner = args[0] if args else field.annotation
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            out.append((name, inner))
    return out


def render() -> str:
    lines = [HEADER]
    for section, model in _nested(Show):
        doc = (model.__doc__ or "").strip()
        lines += [f"## [{section}]", "", *([doc, ""] if doc else [])]
        lines += _table(model)
        for sub, submodel in _nested(model):
            lines += ["", f"### [[{section}.{sub}]]", "", *_table(submodel)]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help=f"rewrite {DOC}")
    args = parser.parse_args(argv)
    text = render()
    if args.write:
        DOC.parent.mkdir(parents=True, exist_ok=True)
        DOC.write_text(text, "utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
