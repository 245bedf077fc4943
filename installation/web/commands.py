"""`installation web user add|list|remove SHOW ...`: who may use the gallery console."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Any

from installation.show.web_config import ROLES
from installation.web.users import UserError, add_user, load_users, remove_user, users_path


def storage_of(show: Path) -> Path:
    """The show's storage folder, read from [storage] dir alone: users can be added while
    the rest of show.toml has an error (e.g. [web] listening with no user yet)."""
    from installation.ops.commands import status_path

    return status_path(show).parent


def register(sub: Any) -> None:
    p = sub.add_parser(
        "web",
        help="the gallery console's users (see docs/web.md)",
        description="Manage who may sign in to the gallery console and what they may do.",
    )
    what = p.add_subparsers(dest="web_command", metavar="WHAT", required=True)
    user = what.add_parser("user", help="add, list or remove console users")
    acts = user.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = acts.add_parser("add", help="add a user, or set a user's role and password")
    add.add_argument("show", type=Path, help="show folder (or its show.toml)")
    add.add_argument("name", help="user name (letters, digits, . _ -)")
    add.add_argument("--role", required=True, choices=ROLES, help="what the user may do")
    add.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    ls = acts.add_parser("list", help="list users and their roles")
    ls.add_argument("show", type=Path, help="show folder (or its show.toml)")
    rm = acts.add_parser("remove", help="remove a user (their sessions end at once)")
    rm.add_argument("show", type=Path, help="show folder (or its show.toml)")
    rm.add_argument("name", help="user name")
    p.set_defaults(func=run_web)


def run_web(args: argparse.Namespace) -> int:
    storage = storage_of(args.show)
    try:
        if args.action == "add":
            password = _password(args.password_stdin)
            new = add_user(storage, args.name, args.role, password)
            done = "added" if new else "updated"
            print(f"{done} {args.name} ({args.role}) in {users_path(storage)}")
        elif args.action == "list":
            users = load_users(storage)
            for u in sorted(users.values(), key=lambda u: u.name):
                print(f"{u.name:<20} {u.role:<11} {u.created}")
            print(f"{len(users)} user(s) in {users_path(storage)}", file=sys.stderr)
        else:
            remove_user(storage, args.name)
            print(f"removed {args.name} from {users_path(storage)}")
    except (UserError, OSError) as e:
        print(f"web user {args.action}: {e}", file=sys.stderr)
        return 2
    return 0


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise UserError("the two passwords differ; nothing was changed")
    return first
