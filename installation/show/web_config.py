"""The web console's address, roles and whether it has users: what the show file and
`validate` need to know of the console, with no web library (show/ never imports web/)."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator

# a role includes the ones before it: an artist may do what a curator, a technician and a
# viewer may; a curator what a technician may (rehearsing needs the wall's controls)
ROLES = ("viewer", "technician", "curator", "artist")
USERS_FILE = "web-users.json"
LOOPBACK = "127.0.0.1"


def rank(role: str) -> int:
    """The role's place in ROLES; -1 for an unknown role (which may do nothing)."""
    return ROLES.index(role) if role in ROLES else -1


def may(role: str, needed: str) -> bool:
    return rank(role) >= rank(needed) >= 0


def parse_listen(text: str) -> tuple[str, int]:
    """'0.0.0.0:8080' -> ('0.0.0.0', 8080); ':8080' and '8080' -> loopback.

    Raises ValueError naming what was wrong and what is accepted."""
    hint = "expected 'HOST:PORT' with a numeric IPv4 host, e.g. '0.0.0.0:8080', or ':8080' "
    hint += "(loopback only)"
    host, sep, port_text = text.strip().rpartition(":")
    if not sep:
        host, port_text = "", text.strip()
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ValueError(f"web listen {text!r}: the port must be a number 0..65535; {hint}")
    host = host or LOOPBACK
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        raise ValueError(
            f"web listen {text!r}: {host!r} is not a numeric IPv4 address; {hint}"
        ) from None
    return host, int(port_text)


def is_loopback(host: str) -> bool:
    return ipaddress.IPv4Address(host).is_loopback


def check_listen(text: str) -> str:
    """The schema's validator: '' (off) or a valid address, kept as written."""
    if text != "":
        parse_listen(text)
    return text


WebListen = Annotated[str, AfterValidator(check_listen)]


MAX_USERS_FILE = 1 << 20


def users_path(storage_dir: Path) -> Path:
    return Path(storage_dir) / USERS_FILE


def any_users(storage_dir: Path) -> bool:
    """True when the users file names at least one user with a password hash (a missing,
    oversized or unreadable file counts as none)."""
    path = users_path(storage_dir)
    try:
        if not path.is_file() or path.stat().st_size > MAX_USERS_FILE:
            return False
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return False
    users = data.get("users") if isinstance(data, dict) else None
    return isinstance(users, dict) and any(
        isinstance(u, dict) and isinstance(u.get("hash"), str) for u in users.values()
    )
