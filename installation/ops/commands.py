"""CLI commands for operations: `status`, `service install`, `doctor`.

Thin: parse arguments, call into ops.status / ops.service / ops.doctor, print.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from installation.ops.status import STALE_AFTER_S, format_status, read_status, status_age

STATUS_FILE = "status.json"
# `installation status` exit codes (LSB-like): running, not running, no status.
EXIT_RUNNING, EXIT_STALE, EXIT_NO_STATUS = 0, 3, 4


def register(sub: Any) -> None:
    """Add the operations commands to the CLI's subparsers."""
    p = sub.add_parser("status", help="show the running kiosk's status (from its status file)")
    p.add_argument(
        "show",
        nargs="?",
        type=Path,
        help="show folder (or its show.toml); default: the show the service runs",
    )
    p.add_argument("--file", type=Path, help="a status.json to read instead")
    p.add_argument("--json", action="store_true", help="print the raw JSON")
    p.add_argument(
        "--root", type=Path, help="look for the installed unit under this folder (for tests)"
    )
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("service", help="install the systemd units for unattended operation")
    service_sub = p.add_subparsers(dest="service_command", metavar="ACTION", required=True)
    p = service_sub.add_parser("install", help="write the units for SHOW (see systemd/README.md)")
    p.add_argument("show", type=Path, help="show folder to run at boot")
    p.add_argument("--user", default=None, help="user the kiosk runs as (console: installation)")
    p.add_argument("--mode", choices=["console", "desktop"], default="console")
    p.add_argument("--venv", type=Path, default=Path(sys.prefix), help="venv holding the package")
    p.add_argument("--hardware-watchdog", action="store_true", help="also arm the board watchdog")
    p.add_argument("--dry-run", action="store_true", help="print the files, write nothing")
    p.add_argument("--root", type=Path, help="write under this folder instead of / (for tests)")
    p.set_defaults(func=cmd_service_install)

    p = sub.add_parser("doctor", help="check this machine and SHOW before opening to the public")
    p.add_argument("show", type=Path, help="show folder")
    p.set_defaults(func=cmd_doctor)


def show_folder(path: Path) -> Path:
    """A show argument (folder or show.toml) as its folder."""
    return path.parent if path.suffix == ".toml" else path


def status_path(show: Path) -> Path:
    """<storage dir>/status.json. Reads only [storage].dir, so this works even while
    the rest of show.toml has an error the kiosk is waiting on."""
    from installation.show.files import SHOW_FILE_LIMIT
    from installation.show.toml_bounds import TomlProblem, parse
    from installation.storage.bounded import Damage, read_bounded

    folder = show_folder(show).absolute()
    storage = "var"
    try:  # bounded: a FIFO, /dev/zero or a 10,000-deep show.toml cannot hang or crash this
        data = parse(read_bounded(folder / "show.toml", SHOW_FILE_LIMIT).decode("utf-8"))
        value = data.get("storage", {}).get("dir", storage)
        storage = value if isinstance(value, str) and value else storage
    except (OSError, Damage, TomlProblem, UnicodeDecodeError, AttributeError):
        pass
    return folder / storage / STATUS_FILE


def installed_status_path(root: Path | None) -> Path | None:
    """The status file of the show the service runs; None (after one line saying how
    to name a show) when there is no such show or more than one."""
    from installation.ops.installed import ENV_VAR, find_show, unit_paths

    shows = find_show(root)
    if len(shows) == 1:
        print(f"(the show in {shows[0].source}: {shows[0].show})", file=sys.stderr)
        return status_path(shows[0].show)
    if shows:
        named = "; ".join(f"{s.show} (in {s.source})" for s in shows)
        print(
            f"installation status: several shows are installed: {named}; name one: "
            "installation status SHOW",
            file=sys.stderr,
        )
    else:
        print(
            "installation status: no show installed as a service (looked for "
            f"{', '.join(str(p) for p in unit_paths(root))}); name one: installation status "
            f"SHOW (a show folder), or set {ENV_VAR}",
            file=sys.stderr,
        )
    return None


def cmd_status(args: argparse.Namespace) -> int:
    if args.show is not None and args.file is not None:
        print("installation status: give a SHOW folder or --file PATH, not both", file=sys.stderr)
        return 2
    if args.file is not None:
        path = args.file
    elif args.show is not None:
        path = status_path(args.show)
    else:
        found = installed_status_path(args.root)
        if found is None:
            return 2
        path = found
    try:
        status = read_status(path)
    except FileNotFoundError:
        print(f"no status file at {path}: the kiosk has not run with this show", file=sys.stderr)
        return EXIT_NO_STATUS
    except (OSError, ValueError) as e:
        print(f"cannot read the status: {e}", file=sys.stderr)
        return EXIT_NO_STATUS
    now = time.time()
    print(json.dumps(status, indent=1) if args.json else format_status(status, now_wall=now))
    age = status_age(status, now)
    running = age is not None and abs(age) <= STALE_AFTER_S and status.get("state") != "stopped"
    return EXIT_RUNNING if running else EXIT_STALE


def cmd_service_install(args: argparse.Namespace) -> int:
    from installation.ops import service

    user = args.user or ("installation" if args.mode == "console" else _login_name())
    show = show_folder(args.show).absolute()
    try:
        units = service.render_units(
            show,
            user=user,
            venv=args.venv.absolute(),
            mode=args.mode,
            hardware_watchdog=args.hardware_watchdog,
        )
    except ValueError as e:
        print(f"installation service install: {e}", file=sys.stderr)
        return 2
    for problem in _install_warnings(show, args.venv.absolute()):
        print(f"warning: {problem}", file=sys.stderr)
    if args.dry_run:
        for dest, text in units.items():
            print(f"# ---- {dest}\n{text}")
    else:
        try:
            owner = user if args.mode == "desktop" and args.root is None else None
            written = service.install_units(units, args.root, owner=owner)
        except OSError as e:
            print(
                f"installation service install: cannot write {e.filename}: {e.strerror}"
                " (run with sudo, or --dry-run to see the files)",
                file=sys.stderr,
            )
            return 1
        print("wrote:\n" + "\n".join(f"  {p}" for p in written))
    print(
        "then run:\n"
        + "\n".join(f"  {s}" for s in service.next_steps(args.mode, user, args.hardware_watchdog))
    )
    return 0


def _login_name() -> str:
    return os.environ.get("SUDO_USER") or os.environ.get("USER") or "installation"


def _install_warnings(show: Path, venv: Path) -> list[str]:
    problems = []
    if not (show / "show.toml").is_file():
        problems.append(f"{show} has no show.toml: the service would fail at start")
    exe = venv / "bin" / "installation"
    if not os.access(exe, os.X_OK):
        problems.append(
            f"{exe} is missing or not executable: `pip install` the package into {venv}"
        )
    return problems


def cmd_doctor(args: argparse.Namespace) -> int:
    from installation.ops.doctor import format_table, run_doctor

    checks = run_doctor(show_folder(args.show).absolute())
    print(format_table(checks))
    return 1 if any(c.level == "FAIL" for c in checks) else 0
