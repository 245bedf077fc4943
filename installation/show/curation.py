"""The curation file: approvals and blocked seeds made from the gallery console.

`curation.toml` sits next to show.toml and adds to its [safety] lists:

    approved = ["3-5", "6-6@1234"]   # more safety.approved entries
    blocked_seeds = [1234]           # more safety.blocked_seeds

The console writes it (atomically) and asks for a reload, so show.toml and its comments
are never rewritten; a curator may also edit it by hand. The loader merges it into every
Show it loads; a bad entry is an issue naming curation.toml and its line, and is left out.
"""

from __future__ import annotations

import contextlib
import json
import tomllib
from pathlib import Path
from typing import Any

from installation.core.variations import SEED_MODULUS
from installation.errors import ShowIssue
from installation.show.schema import Show
from installation.show.toml_lines import KeyLines

CURATION_FILE = "curation.toml"
HEADER = (
    "# Approvals and blocked seeds made in the gallery console (docs/web.md).\n"
    "# Added to show.toml's [safety] approved and blocked_seeds on every load and reload.\n"
)


def curation_path(folder: Path) -> Path:
    return Path(folder) / CURATION_FILE


def read(folder: Path) -> tuple[list[str], list[int], list[ShowIssue]]:
    """(approved, blocked_seeds, issues) as written; ([], [], []) with no file."""
    path = curation_path(folder)
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return [], [], []
    except (OSError, UnicodeDecodeError) as e:
        return [], [], [ShowIssue(str(path), None, "", f"cannot read: {e}")]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        return [], [], [ShowIssue(str(path), None, "", f"TOML syntax error: {e}")]
    lines = KeyLines(text)
    issues = []
    approved, blocked = data.pop("approved", []), data.pop("blocked_seeds", [])
    for key in data:
        msg = "unknown key; expected approved = [...] and blocked_seeds = [...]"
        issues.append(ShowIssue(str(path), lines.line((key,)), key, msg))
    ok_approved: list[str] = []
    ok_blocked: list[int] = []
    for name, value, keep, kind in (
        ("approved", approved, ok_approved, str),
        ("blocked_seeds", blocked, ok_blocked, int),
    ):
        if not isinstance(value, list):
            issues.append(ShowIssue(str(path), lines.line((name,)), name, "expected a list"))
            continue
        for i, item in enumerate(value):
            if isinstance(item, kind) and not isinstance(item, bool):
                keep.append(item)  # type: ignore[arg-type]
            else:
                where = lines.line((name, i))
                msg = f"got {item!r}; expected a {'string' if kind is str else 'seed number'}"
                issues.append(ShowIssue(str(path), where, f"{name}[{i}]", msg))
    return ok_approved, ok_blocked, issues


def apply(show: Show) -> tuple[Show, list[ShowIssue]]:
    """The show with the curation file's entries added to [safety], and the file's issues."""
    from installation.show.rules import _approved_problem

    approved, blocked, issues = read(show.folder)
    if not approved and not blocked:
        return show, issues
    path, text = curation_path(show.folder), ""
    with contextlib.suppress(OSError):
        text = path.read_text("utf-8")
    lines = KeyLines(text)
    good_approved = list(show.safety.approved)
    for i, entry in enumerate(approved):
        if problem := _approved_problem(entry, show.dice.count, show.dice.faces):
            issues.append(
                ShowIssue(str(path), lines.line(("approved", i)), f"approved[{i}]", problem)
            )
        elif entry not in good_approved:
            good_approved.append(entry)
    good_blocked = list(show.safety.blocked_seeds)
    for i, seed in enumerate(blocked):
        if not 0 <= seed < SEED_MODULUS:
            msg = f"got {seed}; expected a seed from 0 to {SEED_MODULUS - 1}"
            issues.append(
                ShowIssue(str(path), lines.line(("blocked_seeds", i)), "blocked_seeds", msg)
            )
        elif seed not in good_blocked:
            good_blocked.append(seed)
    safety = show.safety.model_copy(
        update={"approved": good_approved, "blocked_seeds": good_blocked}
    )
    return show.model_copy(update={"safety": safety}), issues


def write(folder: Path, approved: list[str], blocked_seeds: list[int]) -> None:
    """Replace the curation file atomically (readers see the old one or the new one)."""
    from installation.storage.atomic import write_atomic

    body: dict[str, Any] = {"approved": approved, "blocked_seeds": blocked_seeds}
    text = HEADER + "".join(f"{k} = {json.dumps(v)}\n" for k, v in body.items())
    write_atomic(curation_path(folder), text.encode("utf-8"))


def change(
    folder: Path,
    *,
    approve: str | None = None,
    unapprove: str | None = None,
    block: int | None = None,
    unblock: int | None = None,
) -> tuple[list[str], list[int]]:
    """Read, change one entry, write; returns the new lists. Entries in show.toml itself
    are not touched (a curator removes those there)."""
    approved, blocked, _ = read(folder)
    if approve is not None and approve not in approved:
        approved.append(approve)
    if unapprove is not None:
        approved = [a for a in approved if a != unapprove and a.partition("@")[0] != unapprove]
    if block is not None and block not in blocked:
        blocked.append(block)
    if unblock is not None:
        blocked = [b for b in blocked if b != unblock]
    write(folder, approved, blocked)
    return approved, blocked
