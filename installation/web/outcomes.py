"""The curator's contact sheet as a page: every outcome, its seed, what the wall last showed
of it, and whether it is approved or its seed blocked; changes go to curation.toml."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from installation.core.dice import Throw, all_outcomes
from installation.core.variations import SEED_MODULUS, derive_variation
from installation.errors import ShowError
from installation.show import curation
from installation.show.schema import Show, variation_rule
from installation.web.archive_view import ArchiveView
from installation.web.context import Refused

MAX_OUTCOMES = 1296
DAYS_SCANNED = 7
ENTRIES_SCANNED = 5000
ACTIONS = ("approve", "approve-seed", "unapprove", "block-seed", "unblock-seed")


def current(show: Show) -> tuple[Show, str]:
    """The show as it is on disk now (what a reload applies), or the running one and why."""
    from installation.show.load import load_show

    try:
        return load_show(show.folder), ""
    except ShowError as e:
        return show, f"the show on disk has errors (the wall keeps the last good one):\n{e}"


def latest_shown(archive: ArchiveView) -> dict[str, Any]:
    """The newest archived entry per outcome key, from the last few days."""
    latest: dict[str, Any] = {}
    scanned = 0
    for day in archive.days()[:DAYS_SCANNED]:
        for e in archive.entries(day, None):
            latest[e.key] = e  # oldest first: the newest wins
            scanned += 1
        if scanned >= ENTRIES_SCANNED:
            break
    return latest


def outcome_rows(show: Show, archive: ArchiveView) -> tuple[list[dict[str, Any]], str, str]:
    show, error = current(show)
    rule = variation_rule(show)
    own = dataclasses.replace(rule, approved_only=False, approved=(), blocked_seeds=frozenset())
    approved = set(show.safety.approved)
    blocked = set(show.safety.blocked_seeds)
    file_approved, file_blocked, _ = curation.read(show.folder)
    shown = latest_shown(archive)
    outcomes = all_outcomes(show.dice.count, show.dice.faces)  # lazy: sliced, never listed
    rows = []
    for number, faces in enumerate(outcomes[:MAX_OUTCOMES], start=1):
        key = "-".join(map(str, faces))
        seed = derive_variation(own, Throw(faces)).seed if rule.seed_mode == "fixed" else None
        last = shown.get(key)
        seeds = sorted({s for s in (seed, last.seed if last else None) if s is not None})
        rows.append(
            {
                "key": key,
                "number": number,
                "seeds": seeds,
                "fixed_seed": seed,
                "last": last,
                "approved": key in approved,
                "approved_seeds": sorted(a for a in approved if a.startswith(key + "@")),
                "blocked": [s for s in seeds if s in blocked],
                "in_file": key in file_approved
                or any(a.startswith(key + "@") for a in file_approved)
                or any(s in file_blocked for s in seeds),
            }
        )
    note = f"seed mode {rule.seed_mode}"
    if rule.seed_mode == "fresh":
        note += ": every throw has a new seed; the seeds shown are the last ones on the wall"
    if len(outcomes) > MAX_OUTCOMES:
        note += f"; the first {MAX_OUTCOMES} of {len(outcomes)} outcomes"
    return rows, note, error


def curate(show: Show, key: str, action: str, form: Mapping[str, str]) -> str:
    """One approval or block written to curation.toml; returns what was done."""
    from installation.show.rules import _approved_problem

    if action not in ACTIONS:
        raise Refused(404, f"no action {action!r}; expected one of {', '.join(ACTIONS)}")
    if "@" in key or (problem := _approved_problem(key, show.dice.count, show.dice.faces)):
        raise Refused(400, f"outcome {key!r}: {problem if '@' not in key else 'no @ here'}")
    seed = None
    if action.endswith("seed"):
        text = form.get("seed", "").strip()
        if not text.isdigit() or int(text) >= SEED_MODULUS:
            raise Refused(
                400, f"seed {text!r}: expected a whole number from 0 to {SEED_MODULUS - 1}"
            )
        seed = int(text)
    change = {
        "approve": {"approve": key},
        "approve-seed": {"approve": f"{key}@{seed}"},
        "unapprove": {"unapprove": key},
        "block-seed": {"block": seed},
        "unblock-seed": {"unblock": seed},
    }[action]
    curation.change(show.folder, **change)  # type: ignore[arg-type]
    return f"{action} {key}" + (f" seed {seed}" if seed is not None else "")
