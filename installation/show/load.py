"""Load a show folder: TOML -> validated Show, or a ShowError listing every problem.

Three passes, all collected: TOML syntax, the pydantic schema (per-field types and
ranges) and the cross-field rules in rules.py. Every issue carries show.toml's line.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from installation.core.dice import outcome_count
from installation.errors import ShowError, ShowIssue
from installation.show import curation, rules
from installation.show.messages import dotted, message, unknown_key
from installation.show.schema import Show
from installation.show.toml_lines import KeyLines

SHOW_FILE = "show.toml"
LOADER_FIELDS = ("folder", "source")  # set by the loader, never by the file
_TOML_POS = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def locate_show(path: Path | str) -> tuple[Path, Path]:
    """(folder, show.toml) for a show folder or a .toml file, as given (not resolved)."""
    p = Path(path)
    if p.is_dir():
        return p, p / SHOW_FILE
    return p.parent, p


def load_show(path: Path | str) -> Show:
    """The validated Show at `path` (a show folder or its .toml file) with folder and
    source set to absolute paths. Raises ShowError carrying every issue found."""
    folder, source = locate_show(path)
    text = _read(source, Path(path))
    data = _parse(text, str(source))
    lines = KeyLines(text)
    found: list[tuple[tuple[str | int, ...], str]] = []
    for key in LOADER_FIELDS:
        if key in data:
            del data[key]
            # The show's own location: never taken from the file itself.
            found.append(((key,), unknown_key((key,), Show, suggest=False)))
    show, failed = _validate(data, found)
    show = show.model_copy(update={"folder": folder.resolve(), "source": source.resolve()})
    show, curated = curation.apply(show)  # the console's approvals and blocks (curation.toml)
    found += rules.check(show, skip=failed)
    if found or curated:
        issues = [ShowIssue(str(source), lines.line(loc), dotted(loc), msg) for loc, msg in found]
        issues += curated
        raise ShowError(sorted(issues, key=lambda i: i.line or 0))
    return show


def _read(source: Path, given: Path) -> str:
    if not source.exists():
        in_folder = source.parent.is_dir() and source.name == SHOW_FILE
        hint = f"no {SHOW_FILE} in this folder" if in_folder else "no such show folder or file"
        msg = f"{hint}; expected a show folder containing {SHOW_FILE}, or a .toml show file"
        raise ShowError([ShowIssue(str(given), None, "", msg)])
    try:
        return source.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        msg = f"not UTF-8 text ({e.reason} at byte {e.start}); save the file as UTF-8"
    except OSError as e:
        msg = f"cannot read: {e.strerror or e}"
    raise ShowError([ShowIssue(str(source), None, "", msg)])


def _parse(text: str, file: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        msg = str(e)
        m = _TOML_POS.search(msg)
        line = int(m.group(1)) if m else None
        raise ShowError(
            [ShowIssue(file, line, "", f"TOML syntax error: {_TOML_POS.sub('', msg)}")]
        ) from None


def _validate(
    data: dict[str, Any], found: list[tuple[tuple[str | int, ...], str]]
) -> tuple[Show, set[str]]:
    """Validate; on errors, record them and re-validate without the bad keys, so the
    cross-field rules can still check everything else. Returns the show and the failed
    keys ('dice.count', or a whole section) whose rules must be skipped."""
    try:
        return Show.model_validate(data), set()
    except ValidationError as e:
        errors = [(message(err), err["type"]) for err in e.errors()]
    found.extend(issue for issue, _ in errors)
    failed: set[str] = set()
    kept = {k: dict(v) if isinstance(v, dict) else v for k, v in data.items()}
    for (loc, _), kind in errors:
        section = str(loc[0]) if loc else ""
        if len(loc) < 2 or not isinstance(kept.get(section), dict):
            kept.pop(section, None)
            failed.add(section)
            continue
        kept[section].pop(loc[1], None)
        if kind != "extra_forbidden":  # an unknown key is simply left out
            failed.add(f"{section}.{loc[1]}")
    try:
        return Show.model_validate(kept), failed
    except ValidationError:  # e.g. a missing required key of a section: drop sections
        bad = {k for k in kept if k in {f.split(".")[0] for f in failed}}
        show = Show.model_validate({k: v for k, v in kept.items() if k not in bad})
        return show, failed | bad


def summarize(show: Show) -> str:
    """A few lines a curator can check at a glance after validating."""
    s, d, v, o = show.show, show.dice, show.variations, show.osc
    title = " by ".join(x for x in (f"'{s.title}'" if s.title else "", s.artist) if x)
    ports = ", ".join(d.ports) if d.ports else "no physical dice"
    outcomes = outcome_count(d.count, d.faces)
    if v.model is None:
        engine = "fallback (no model)" if v.engine != "diffusers" else "diffusers (no model!)"
    else:
        engine = f"{v.engine}, model {show.resolve(v.model)}"
    mode = "img2img" if show.artwork.paintings else "text-to-image"
    if show.artwork.mask is not None:
        mode = "inpainting"
    targets = ", ".join(f"{t.name} {t.host}:{t.port} ({t.mode})" for t in o.targets)
    return "\n".join(
        [
            f"show      {s.name}" + (f": {title}" if title else ""),
            f"folder    {show.folder}",
            f"dice      {d.count} x d{d.faces}; {ports}",
            f"outcomes  {outcomes} ({v.seed_mode} seeds)",
            f"engine    {engine}",
            f"render    {v.width}x{v.height} {mode}, {v.steps} steps, strength {v.strength:g}, "
            f"guidance {v.guidance:g}",
            f"osc       control {o.listen or 'off'}; targets: {targets or 'none'}",
        ]
    )
