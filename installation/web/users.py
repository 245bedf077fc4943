"""Console users: names, roles and scrypt hashes in <storage>/web-users.json.

Only hashes are stored (hashlib.scrypt, a random salt each). The file is written atomically
with mode 0600 (store.write_atomic): a reader sees the old list or the new one. The running
console re-reads it when it changes, so `installation web user add` applies without a restart.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from installation.errors import InstallationError
from installation.show.web_config import ROLES, any_users, users_path
from installation.storage.atomic import write_atomic

__all__ = ["ROLES", "any_users", "users_path"]  # with the rest below: the console uses these

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
# scrypt: 16 MiB and about 50 ms a check on a small board; enough to make guessing slow
N, R, P, DKLEN = 2**14, 8, 1, 32


class UserError(InstallationError):
    """A bad name, role or password, or an unreadable users file."""


@dataclass(frozen=True)
class User:
    name: str
    role: str
    hash: str
    created: str = ""


def hash_password(password: str, *, n: int = N) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=R, p=P, dklen=DKLEN)
    b64 = base64.b64encode
    return f"scrypt${n}${R}${P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """True when `password` matches; False for a wrong one or a malformed hash."""
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        want = base64.b64decode(digest)
        got = hashlib.scrypt(
            password.encode()[:MAX_PASSWORD],
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(want),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, want)


# a hash to check unknown names against, so a wrong name costs what a wrong password does
DUMMY_HASH = hash_password(secrets.token_urlsafe(12))


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise UserError(
            f"user name {name!r}: expected 1 to 64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UserError(f"role {role!r}: expected one of {', '.join(ROLES)}")
    return role


def check_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise UserError(
            f"password: expected {MIN_PASSWORD} to {MAX_PASSWORD} characters, got {len(password)}"
        )
    return password


def load_users(storage_dir: Path) -> dict[str, User]:
    """Every user; {} when there is no users file. Raises UserError naming a bad file."""
    path = users_path(storage_dir)
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:
        raise UserError(f"{path}: not a readable users file ({e})") from e
    users = data.get("users") if isinstance(data, dict) else None
    if not isinstance(users, dict):
        raise UserError(f"{path}: expected a JSON object with 'users'")
    out = {}
    for name, info in users.items():
        if isinstance(info, dict) and isinstance(info.get("hash"), str):
            out[name] = User(name, str(info.get("role", "")), info["hash"], info.get("created", ""))
    return out


def save_users(storage_dir: Path, users: dict[str, User]) -> None:
    data: dict[str, Any] = {
        "version": 1,
        "users": {
            u.name: {"role": u.role, "hash": u.hash, "created": u.created}
            for u in sorted(users.values(), key=lambda u: u.name)
        },
    }
    text = json.dumps(data, indent=1) + "\n"
    write_atomic(users_path(storage_dir), text.encode(), mode=0o600)


def add_user(storage_dir: Path, name: str, role: str, password: str) -> bool:
    """Add or replace a user; True when the name was new."""
    check_name(name)
    check_role(role)
    check_password(password)
    users = load_users(storage_dir)
    new = name not in users
    created = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    users[name] = User(name, role, hash_password(password), created)
    save_users(storage_dir, users)
    return new


def remove_user(storage_dir: Path, name: str) -> None:
    users = load_users(storage_dir)
    if name not in users:
        known = ", ".join(sorted(users)) or "none"
        raise UserError(f"no user {name!r} (users: {known})")
    del users[name]
    save_users(storage_dir, users)
