"""Load a show folder: TOML -> validated Show, or a ShowError listing every problem.

Three passes, all collected: TOML syntax, the pydantic schema (per-field types and
ranges) and the cross-field rules in rules.py and path_rules.py. Every issue carries
show.toml's line. Reading is bounded (files.py, toml_bounds.py): only a regular file of
at most 1 MiB, nesting and numbers within limits, so no file can hang or crash a load.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from installation.core.dice import outcome_count
from installation.core.schedule import Schedule
from installation.errors import ShowError, ShowIssue
from installation.show import path_rules, rules  # noqa: F401 (path_rules registers rules)
from installation.show.files import SHOW_FILE_LIMIT, FileProblem, read_regular
from installation.show.messages import dotted, message, unknown_key
from installation.show.schema import ScheduleSection, Show
from installation.show.toml_bounds import TomlProblem, out_of_bounds, parse
from installation.show.toml_lines import KeyLines

SHOW_FILE = "show.toml"
LOADER_FIELDS = ("folder", "source")  # set by the loader, never by the file


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
    try:
        data = parse(text)
    except TomlProblem as e:
        raise ShowError([ShowIssue(str(source), e.line, "", e.message)]) from None
    lines = KeyLines(text)
    if bad := out_of_bounds(data):  # nothing past here may meet a huge number or depth
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
    found += rules.check(show, skip=failed)
    if found:
        issues = [ShowIssue(str(source), lines.line(loc), dotted(loc), msg) for loc, msg in found]
        raise ShowError(sorted(issues, key=lambda i: i.line or 0))
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
        msg = f"{e}; expected a show folder containing {SHOW_FILE}, or a .toml show file"
    except UnicodeDecodeError as e:
        msg = f"not UTF-8 text ({e.reason} at byte {e.start}); save the file as UTF-8"
    raise ShowError([ShowIssue(str(source), None, "", msg)])


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


def next_opening_and_closing(
    schedule: Schedule, now: datetime
) -> tuple[datetime | None, datetime | None]:
    """The next instant the doors open and the next they close after `now` (UTC; None:
    not within the schedule's horizon of about a year). Warm-up is not an opening."""
    opening = closing = None
    t, phase = now, schedule.phase_at(now)
    for _ in range(8):  # open -> closed -> warmup -> open covers both within 3 changes
        nxt = schedule.next_change(t)
        if nxt is None:
            break
        new = schedule.phase_at(nxt)
        if new == "open" and opening is None:
            opening = nxt
        if phase == "open" and new != "open" and closing is None:
            closing = nxt
        if opening is not None and closing is not None:
            break
        t, phase = nxt, new
    return opening, closing


def hours_line(section: ScheduleSection, now: datetime) -> str:
    """'open now (Europe/Berlin); closes Mon 2026-12-07 18:00, opens again ...'."""
    schedule = section.build()
    opening, closing = next_opening_and_closing(schedule, now)

    def local(t: datetime | None) -> str:
        return (
            "not within a year" if t is None else f"{t.astimezone(schedule.zone):%a %Y-%m-%d %H:%M}"
        )

    phase = schedule.phase_at(now)
    state = {"open": "open now", "warmup": "warming up now", "closed": "closed now"}[phase]
    if phase == "open":
        plan = f"closes {local(closing)}, opens again {local(opening)}"
    else:
        plan = f"opens {local(opening)}, closes {local(closing)}"
    return f"{state} ({section.timezone}); {plan}"


def summarize(show: Show, now: datetime | None = None) -> str:
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
    if show.schedule is None:
        hours = "always open (no [schedule])"
    else:
        hours = hours_line(show.schedule, now or datetime.now(UTC))
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
            f"hours     {hours}",
        ]
    )
