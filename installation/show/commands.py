"""`installation validate SHOW`: check a show folder the way the kiosk would load it."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from installation.errors import ShowError

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
    """Print every issue (exit 2) or the show's summary (exit 0)."""
    from installation.show.load import load_show, problem_count
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
    for note in shape_notes(show):
        print(f"warning: {note}")
    print("show is valid", file=sys.stderr)
    return EXIT_OK
