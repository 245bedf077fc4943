"""`installation run`: load the show, build the real edges, run the app.

Exit codes (systemd's units know them): 0 a clean stop, 1 a burst of failing frames
(systemd restarts), 2 an invalid show or a bad argument (a restart would not help;
`--screenshot-dir` follows the rules of every user-named output, storage/outputs.py:
a folder, never a link, made only if its parent exists unless `--parents`), 3 no display,
4 another part could not start (a port in use, storage read-only, not writable or not
creatable, or a tool such as `installation sheet` holds the storage lock for a while),
5 already running: another kiosk holds this storage folder's lock (storage/lock.py; taken
before any window or worker). Every predictable failure is one
line naming what failed and the fix, never a Python traceback: on stderr as
`installation run: ...`, or, when stderr is the journal (systemd's JOURNAL_STREAM names
it), as one log line at error priority. A model that does not load is no exit at all: the
fallback engine renders and the status says FAIL.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

from installation.app.app import RunOptions
from installation.errors import (
    DisplayError,
    InstallationError,
    OutputPathError,
    ShowError,
    StorageBusy,
    StorageError,
)
from installation.show.schema import Show

log = logging.getLogger("installation.run")

EXIT_OK, EXIT_FRAMES, EXIT_SHOW, EXIT_DISPLAY, EXIT_START, EXIT_RUNNING = 0, 1, 2, 3, 4, 5


def run(args: argparse.Namespace) -> int:
    from installation.ops.watchdog import enable_faulthandler
    from installation.show.load import load_show
    from installation.storage.lock import StorageLock

    enable_faulthandler()  # a watchdog abort leaves every thread's stack in the journal

    if args.headless:
        os.environ["SDL_VIDEODRIVER"] = "dummy"
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    try:
        show = load_show(args.show)
    except ShowError as e:
        for issue in e.issues:
            print(issue)
        print(f"{len(e.issues)} error(s): the show was not started.")
        return EXIT_SHOW
    from installation.show.notes import show_notes

    for note in show_notes(show):  # what validate notes (a big outcome space, ...)
        log.info("show note: %s", note)
    try:  # one kiosk per storage, before any window, port or worker
        lock = StorageLock.acquire(show.storage_dir, show.show.name)
    except StorageBusy as e:
        if e.tool is not None:  # a tool ends by itself: systemd starts us again (code 4)
            _one_line(f"{e}; the kiosk starts once `installation {e.tool}` has finished")
            return EXIT_START
        _one_line(str(e))
        return EXIT_RUNNING
    except StorageError as e:
        _one_line(str(e))
        return EXIT_START
    with lock:
        try:  # only now: a refused start makes no folder
            shots = _screenshot_dir(args)
        except OutputPathError as e:
            _one_line(str(e))
            return EXIT_SHOW
        return _run(show, args, shots)


def _screenshot_dir(args: argparse.Namespace) -> Path | None:
    """--screenshot-dir as a checked folder (made when missing), like `--to DIR`."""
    from installation.storage.outputs import checked_output_dir

    if not args.screenshot_dir:
        return None
    return checked_output_dir(args.screenshot_dir, parents=args.parents, option="--screenshot-dir")


def _run(show: Show, args: argparse.Namespace, screenshot_dir: Path | None) -> int:
    from installation.app.build import build_app

    options = RunOptions(
        window=args.window or args.headless,
        rehearsal=args.rehearsal,
        exit_after=args.exit_after,
        screenshot_dir=screenshot_dir,
        auto_throw=args.auto_throw,
    )
    try:
        app = build_app(show, options)
        return app.run()
    except DisplayError as e:
        _one_line(str(e) if str(e).startswith("no display") else f"display: {e}")
        return EXIT_DISPLAY
    except ShowError as e:
        _one_line(f"the show is not valid: {e}")
        return EXIT_SHOW
    except InstallationError as e:
        _one_line(f"the show could not start: {e}")
        return EXIT_START


def _one_line(message: str) -> None:
    """Said once: the journal keeps the log line (with its priority), a terminal the
    plain line."""
    if _stderr_is_journal():
        log.error("%s", message)
    else:
        print(f"installation run: {message}", file=sys.stderr)


def _stderr_is_journal() -> bool:
    """systemd sets JOURNAL_STREAM to the device:inode of the journal stream; a child
    whose stderr was redirected inherits the variable, so it is compared, not trusted."""
    try:
        st = os.fstat(sys.stderr.fileno())
    except (OSError, ValueError, AttributeError):  # no stderr, or a replaced one
        return False
    return os.environ.get("JOURNAL_STREAM") == f"{st.st_dev}:{st.st_ino}"


def register(sub: Any) -> None:
    p = sub.add_parser("run", help="run a show on the wall")
    p.add_argument("show", help="show folder (or its show.toml)")
    p.add_argument("--window", action="store_true", help="a window instead of fullscreen")
    p.add_argument("--rehearsal", action="store_true", help="keyboard throws: 1-6 and space")
    p.add_argument("--headless", action="store_true", help="no screen: SDL's dummy driver")
    p.add_argument("--exit-after", type=float, metavar="SECONDS", help="stop after this long")
    p.add_argument("--screenshot-dir", metavar="DIR", help="save each variation as shown")
    p.add_argument("--parents", action="store_true", help="create --screenshot-dir's parents")
    p.add_argument("--auto-throw", type=float, metavar="SECONDS", help="a random throw every N s")
    p.set_defaults(func=run)
