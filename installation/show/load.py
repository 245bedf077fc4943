"""Load a show folder: TOML -> validated Show, or a ShowError listing every problem.

Three passes, all collected: TOML syntax, the pydantic schema (per-field types and
ranges) and the cross-field rules in rules.py and path_rules.py. Every issue carries
show.toml's line. Reading is bounded (files.py, toml_bounds.py): only a regular file of
at most 256 KiB, nesting and numbers within limits, so no file can hang or crash a load.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from installation.errors import ShowError, ShowIssue
from installation.show import (  # noqa: F401 (they register)
    curation,
    path_rules,
    rules,
    screen_rules,
    upscale_rules,
)
from installation.show.files import SHOW_FILE_LIMIT, FileProblem, read_regular
from installation.show.messages import clean_loc, dotted, message, unknown_key
from installation.show.schema import Show
from installation.show.toml_bounds import TomlProblem, out_of_bounds, parse
from installation.show.toml_lines import KeyLines

SHOW_FILE = "show.toml"
LOADER_FIELDS = ("folder", "source")  # set by the loader, never by the file
MAX_ISSUES = 100  # a file of 20,000 unknown keys gets 100 lines and a count, fast
MORE = "more problems not listed; fix these and validate again"


def locate_show(path: Path | str) -> tuple[Path, Path]:
    """(folder, show.toml) for a show folder or a .toml file, as given (not resolved)."""
    p = Path(path)
    if p.is_dir():
        return p, p / SHOW_FILE
    return p.parent, p


def load_show(path: Path | str) -> Show:
    """The validated Show at `path` (a show folder or its .toml file) with folder and
    source set to absolute paths. Raises ShowError carrying every issue found (the first
    MAX_ISSUES by line, then one saying how many more there are)."""
    folder, source = locate_show(path)
    text = _read(source, Path(path))
    try:
        data = parse(text)
    except TomlProblem as e:
        raise ShowError([ShowIssue(str(source), e.line, "", e.message)]) from None
    if bad := out_of_bounds(data):  # nothing past here may meet a huge number or depth
        lines = KeyLines(text)
        issues = [ShowIssue(str(source), lines.line(loc), dotted(loc), msg) for loc, msg in bad]
        raise ShowError(issues)
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
        lines = KeyLines(text)  # only now: scanning costs as much as parsing
        listed = [(loc, msg) for loc, msg in found if msg][:MAX_ISSUES]
        issues = [ShowIssue(str(source), lines.line(loc), dotted(loc), msg) for loc, msg in listed]
        issues += curated[:MAX_ISSUES]
        issues.sort(key=lambda i: i.line or 0)
        if len(found) > len(listed):
            more = f"{len(found) - len(listed)} {MORE}"
            issues.append(ShowIssue(str(source), None, "", more))
        raise ShowError(issues)
    return show


def _read(source: Path, given: Path) -> str:
    """The text of show.toml: a regular UTF-8 file of at most SHOW_FILE_LIMIT bytes."""
    try:
        exists = source.exists()
    except (OSError, ValueError):  # a NUL in the name, a name too long: read_regular says so
        exists = True
    if not exists:
        in_folder = source.parent.is_dir() and source.name == SHOW_FILE
        hint = f"no {SHOW_FILE} in this folder" if in_folder else "no such show folder or file"
        msg = f"{hint}; expected a show folder containing {SHOW_FILE}, or a .toml show file"
        raise ShowError([ShowIssue(str(given), None, "", msg)])
    try:
        return read_regular(source, SHOW_FILE_LIMIT).decode("utf-8")
    except FileProblem as e:
        msg = str(e)
        if "not a regular file" in msg:
            msg += f"; expected a show folder containing {SHOW_FILE}, or a .toml show file"
    except UnicodeDecodeError as e:
        msg = f"not UTF-8 text ({e.reason} at byte {e.start}); save the file as UTF-8"
    raise ShowError([ShowIssue(str(source), None, "", msg)])


def _validate(
    data: dict[str, Any], found: list[tuple[tuple[str | int, ...], str]]
) -> tuple[Show, set[str]]:
    """Validate; on errors, record them and re-validate without the bad keys, so the
    cross-field rules can still check everything else. Returns the show and the failed
    keys ('dice.count', or a whole section) whose rules must be skipped. Messages are
    written for the first MAX_ISSUES errors only (a suggestion costs a difflib search)."""
    try:
        return Show.model_validate(data), set()
    except ValidationError as e:
        errors = e.errors()
    for n, err in enumerate(errors):
        found.append(message(err) if n < MAX_ISSUES else (clean_loc(err["loc"]), ""))
    failed: set[str] = set()
    kept = {k: dict(v) if isinstance(v, dict) else v for k, v in data.items()}
    for err in errors:
        loc, kind = clean_loc(err["loc"]), err["type"]
        section = str(loc[0]) if loc else ""
        if len(loc) < 2 or not isinstance(kept.get(section), dict):
            kept.pop(section, None)
            if kind != "extra_forbidden":  # an unknown table is left out, not failed
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


def problem_count(error: ShowError) -> int:
    """How many problems a ShowError stands for, the unlisted ones included."""
    last = error.issues[-1].message if error.issues else ""
    count, _, rest = last.partition(" ")
    if rest == MORE and count.isdigit():
        return len(error.issues) - 1 + int(count)
    return len(error.issues)
