"""`installation validate SHOW`: check a show folder the way the kiosk would load it."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from installation.errors import ShowError, ShowIssue

EXIT_OK = 0
EXIT_INVALID = 2


def register(sub: Any) -> None:
    """Add the show commands to the CLI's subparsers."""
    p: argparse.ArgumentParser = sub.add_parser(
        "validate",
        help="check a show folder and list every problem with its line",
        description="Check a show folder (or show.toml) and print every problem as "
        "file:line: key: message. Exit status 0 when valid, 2 when not.",
    )
    p.add_argument("show", help="show folder containing show.toml, or a .toml file")
    p.set_defaults(func=validate)


def validate(args: argparse.Namespace) -> int:
    """Print every issue (exit 2) or the show's summary (exit 0), then its notes: what
    a valid show will do that a curator may not expect (show/notes.py), on stderr."""
    from installation.show.load import load_show, problem_count
    from installation.show.notes import show_notes
    from installation.show.summary import summarize

    try:
        show = load_show(args.show)
    except ShowError as e:
        for issue in e.issues:
            print(issue)
        n = problem_count(e)
        print(f"{n} problem{'s' if n != 1 else ''}; the show was not loaded", file=sys.stderr)
        return EXIT_INVALID
    from installation.show.shape import shape_notes

    print(summarize(show))
    warnings = [*map(str, show_warnings(show)), *shape_notes(show)]
    for warning in warnings:  # on stdout with the summary: the show runs, but look
        print(f"warning: {warning}")
    notes = show_notes(show)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    counted = ((warnings, "warning"), (notes, "note"))
    said = [f"{len(x)} {word}{'s' if len(x) != 1 else ''}" for x, word in counted if x]
    print("show is valid" + (f" ({', '.join(said)})" if said else ""), file=sys.stderr)
    return EXIT_OK


def show_warnings(show: Any) -> list[ShowIssue]:
    """What a valid show should still fix, located like errors: model paths that are not
    there (the show runs with the fallback engine until they appear)."""
    from installation.show.files import SHOW_FILE_LIMIT, read_regular
    from installation.show.messages import dotted
    from installation.show.path_rules import model_warnings
    from installation.show.toml_lines import KeyLines

    found = model_warnings(show)
    if not found:
        return []
    try:
        lines: KeyLines | None = KeyLines(read_regular(show.source, SHOW_FILE_LIMIT).decode())
    except Exception:  # changed since the load: the lines are a courtesy
        lines = None
    return [
        ShowIssue(str(show.source), lines.line(loc) if lines else None, dotted(loc), msg)
        for loc, msg in found
    ]
