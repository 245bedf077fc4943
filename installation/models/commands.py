"""`installation models ...`: fetch, build and check model folders.

pull is the only command in the installation that talks to the network, and it is run
by a technician while setting up, never by the show. make-tiny builds a tiny random
pipeline for rehearsals and tests. check says what a folder is and whether it is complete.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from installation.errors import ModelError, OutputPathError
from installation.storage.outputs import checked_output_dir


def register(sub: Any) -> None:
    """Add the `models` command and its actions to the CLI's subparsers."""
    models = sub.add_parser("models", help="fetch, build and check model folders")
    models.set_defaults(func=lambda _args: _usage(models))
    actions = models.add_subparsers(dest="models_command", metavar="ACTION")

    pull = actions.add_parser("pull", help="download a model from the hub into a folder")
    pull.add_argument("repo_id", help="hub id, e.g. stabilityai/sd-turbo")
    pull.add_argument("--to", required=True, type=Path, metavar="DIR", help="destination folder")
    pull.add_argument("--revision", default=None, help="branch, tag or commit (default: main)")
    pull.add_argument("--parents", action="store_true", help="create --to's missing folders")
    pull.set_defaults(func=cmd_pull)

    tiny = actions.add_parser("make-tiny", help="build a tiny random pipeline (tests, rehearsal)")
    tiny.add_argument("dir", type=Path, help="destination folder")
    tiny.add_argument("--inpaint", action="store_true", help="an inpainting pipeline")
    tiny.add_argument("--safety", action="store_true", help="include a tiny safety checker")
    tiny.add_argument("--seed", type=int, default=0, help="seed of the random weights")
    tiny.add_argument("--parents", action="store_true", help="create DIR's missing folders")
    tiny.set_defaults(func=cmd_make_tiny)

    check = actions.add_parser("check", help="say what a model folder is and if it is complete")
    check.add_argument("path", type=Path, help="model folder or single-file checkpoint")
    check.set_defaults(func=cmd_check)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _fail(e: ModelError) -> int:
    print(f"error: {e}", file=sys.stderr)
    return 1


def _bad_output(e: OutputPathError) -> int:
    print(f"error: {e}", file=sys.stderr)
    return 2


def cmd_pull(args: argparse.Namespace) -> int:
    from installation.models.folders import inspect_model, pull

    try:
        checked_output_dir(args.to, parents=args.parents)  # before the network
    except OutputPathError as e:
        return _bad_output(e)
    try:
        path = pull(args.repo_id, args.to, revision=args.revision)
    except ModelError as e:
        return _fail(e)
    report = inspect_model(path)
    print("\n".join(report.lines()))
    return 0 if report.complete else 1


def cmd_make_tiny(args: argparse.Namespace) -> int:
    from installation.models.tiny import make_tiny_pipeline

    dest: Path = args.dir
    try:
        checked_output_dir(dest, parents=args.parents, option="make-tiny")
    except OutputPathError as e:
        return _bad_output(e)
    if any(dest.iterdir()):
        return _fail(ModelError(f"{dest} exists and is not empty; choose a new folder"))
    make_tiny_pipeline(dest, inpaint=args.inpaint, safety=args.safety, seed=args.seed)
    kind = "inpainting" if args.inpaint else "text/image-to-image"
    print(
        f"tiny {kind} pipeline written to {dest}"
        + (" (with safety checker)" if args.safety else "")
    )
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from installation.models.folders import inspect_model

    report = inspect_model(args.path)
    print("\n".join(report.lines()))
    return 0 if report.complete else 1
