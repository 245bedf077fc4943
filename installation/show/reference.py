"""The show file reference, generated from the schema so it can never drift.

`python -m installation.show.reference --write` rewrites docs/show-file.md; a test
fails when the file and the schema disagree.
"""

from __future__ import annotations

import argparse
import functools
import json
import operator
import re
import sys
import types
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

Types are strict: `count = "3"` or `fullscreen = "yes"` is an error (write `3`,
`true`); a whole number may be given for a number, and paths are text in quotes.
Each number must lie in the range given under *type*. `show.toml` must be a regular
UTF-8 file of at most 256 KiB, with lists and tables nested at most 16 deep and whole
numbers within 64 bits; images (paintings, mask, poster) must be regular files of at
most 256 MiB and at most Pillow's limit of about 89 million pixels.

This file is generated from `installation/show/schema.py`
(`python -m installation.show.reference --write`); a test keeps them in step.
"""


def _plain(annotation: Any) -> Any:
    """The annotation without Annotated[...] metadata (strictness is not a type)."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _plain(args[0])
    if origin in (typing.Union, types.UnionType):
        return functools.reduce(operator.or_, (_plain(a) for a in args))
    if origin in (list, tuple, dict):
        return origin[tuple(_plain(a) for a in args)]
    return annotation


def _limits(field: Any) -> str:
    """', 1 to 8' or ', at most 200 characters' from the field's constraints."""
    from installation.show.messages import _bounds

    rng = _bounds(field).replace("from ", "", 1)
    longest = next((m.max_length for m in field.metadata if hasattr(m, "max_length")), None)
    if longest is not None:
        unit = "characters" if _plain(field.annotation) is str else "items"
        rng = f"at most {longest} {unit}"
    return f", {rng}" if rng else ""


def _type_name(annotation: Any) -> str:
    if typing.get_origin(annotation) is typing.Literal:
        return " \\| ".join(json.dumps(a) for a in typing.get_args(annotation))
    text = str(_plain(annotation)).replace("typing.", "").replace("pathlib.", "")
    text = text.replace("<class '", "").replace("'>", "")
    text = re.sub(r"installation\.[\w.]+\.", "", text)  # a section's class name is enough
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


# Examples where the default says little (empty, none); other keys show their default.
EXAMPLES: dict[str, str] = {
    "show.title": '"Dice, a variation"',
    "show.artist": '"A. Painter"',
    "artwork.paintings": '["canvas.png", "study.jpg"]',
    "artwork.mask": '"mask.png"',
    "dice.ports": '["/dev/serial/by-id/usb-dice_A1-if00", "usb:2341:0043@57600"]',
    "variations.variants": '[["at dawn", "at dusk"], ["in oil", "in ink"]]',
    "variations.negative_prompt": '"text, watermark, blurry"',
    "variations.model": '"/srv/models/sd-turbo"',
    "variations.model_config_dir": '"/srv/models/sd15-config"',
    "engine.tiny_vae": '"/srv/models/taesd"',
    "osc.allow": '["192.168.1.0/24"]',
    "osc.reply_port": "9001",
    "osc.heartbeat_s": "10",
    "osc.targets.name": '"sound"',
    "osc.targets.host": '"192.168.1.30"',
    "osc.targets.port": "53000",
    "osc.targets.lead_ms": "80",
    "osc.targets.addresses": '{ shown = "/cue/{number}/go", heartbeat = "" }',
    "osc.targets.args": "{ shown = [] }",
    "safety.checker": '"/srv/models/safety-checker"',
    "safety.blocked_seeds": "[1234567, 89012]",
    "safety.approved": '["3-5", "6-6@1234"]',
    "schedule.timezone": '"Europe/Berlin"',
    "schedule.tuesday": '"10:00-13:00, 14:00-18:00"',
    "schedule.exceptions.date": "2026-12-25",
    "schedule.exceptions.hours": '"closed"',
    "schedule.exceptions.note": '"Christmas"',
    "projectors.name": '"left"',
    "projectors.host": '"192.168.1.50"',
    "projectors.password": '"secret"',
    "cluster.node": '"wall-left"',
    "cluster.peers": '["192.168.1.21:9100", "192.168.1.22:9100"]',
    "cluster.multicast": '"239.255.42.1:9100"',
    "cluster.interface": '"192.168.1.20"',
}


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Path):
        return json.dumps(str(value))
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def example_for(path: str, name: str, field: Any) -> str:
    if path in EXAMPLES:
        text = EXAMPLES[path]
    else:
        value = field.default_factory() if field.default_factory is not None else field.default
        if value is None or value is PydanticUndefined or isinstance(value, BaseModel):
            return ""
        if isinstance(value, list) and value and isinstance(value[0], BaseModel):
            return ""
        text = _toml(value)
    return f"`{name} = {text}`".replace("|", "\\|")


def _table(model: type[BaseModel], section: str) -> list[str]:
    rows = ["| key | type | default | meaning | example |", "|---|---|---|---|---|"]
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        desc = (field.description or "").replace("|", "\\|")
        example = example_for(f"{section}.{name}", name, field)
        kind = _type_name(field.annotation) + _limits(field)
        rows.append(f"| `{name}` | {kind} | {_default(field)} | {desc} | {example} |")
    return rows


def nested_sections(model: type[BaseModel]) -> list[tuple[str, type[BaseModel]]]:
    out = []
    for name, field in model.model_fields.items():
        args = typing.get_args(field.annotation)
        inner = args[0] if args else field.annotation
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            out.append((name, inner))
    return out


def render() -> str:
    lines = [HEADER]
    for section, model in nested_sections(Show):
        doc = (model.__doc__ or "").strip()
        listed = typing.get_origin(Show.model_fields[section].annotation) is list
        heading = f"## [[{section}]]" if listed else f"## [{section}]"
        lines += [heading, "", *([doc, ""] if doc else [])]
        lines += _table(model, section)
        for sub, submodel in nested_sections(model):
            lines += ["", f"### [[{section}.{sub}]]", "", *_table(submodel, f"{section}.{sub}")]
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
