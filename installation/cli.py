"""Command line: thin. Parses arguments and hands over to the subsystem that owns the command."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Each module has register(subparsers) and sets `func` (args -> exit status) on its parsers.
COMMAND_MODULES: list[str] = [
    "installation.app.run",  # run
    "installation.show.commands",  # validate
    "installation.dice.commands",  # dice emulate | monitor | ports
    "installation.models.commands",  # models pull | make-tiny | check
    "installation.cache.commands",  # prerender
    "installation.curate.commands",  # preview, sheet, new-show, archive
    "installation.ops.commands",  # status, service install, doctor
    "installation.web.commands",  # web user add | list | remove
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="installation",
        description="Dice-driven AI variation installation: "
        "run, validate, preview and maintain a show.",
    )
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING or ERROR")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from installation.ops.logs import flush_logs, setup_logging

    setup_logging(args.log_level)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    finally:
        flush_logs()  # log lines are written by a thread: all of them before returning


if __name__ == "__main__":
    sys.exit(main())
