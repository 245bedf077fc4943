"""Which show this machine runs at boot: for `installation status` without a SHOW.

`installation service install SHOW` writes a unit whose WorkingDirectory is the show
folder: the system unit (console mode) or the user's unit (desktop mode, in the home of
the user running the command or of the one behind sudo). $INSTALLATION_SHOW, when set,
names the show instead.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from installation.ops.service import UNIT, user_home
from installation.storage.bounded import KIB, Damage, read_bounded

ENV_VAR = "INSTALLATION_SHOW"
UNIT_LIMIT = 64 * KIB


@dataclass(frozen=True)
class Installed:
    show: Path
    source: str  # where it was found: a unit file, or the variable


def unit_paths(root: Path | None = None) -> list[Path]:
    """Where service install writes the unit: the system one, then the user ones."""
    base = root if root is not None else Path("/")
    homes = [Path.home()]
    sudo_user = os.environ.get("SUDO_USER")
    if sudo_user:
        homes.append(user_home(sudo_user))
    paths = [base / "etc/systemd/system" / UNIT]
    for home in dict.fromkeys(homes):
        paths.append(base / home.relative_to(home.anchor) / ".config/systemd/user" / UNIT)
    return paths


def show_in_unit(text: str) -> Path | None:
    """The show folder a unit runs (its WorkingDirectory, systemd's escapes undone)."""
    for line in text.splitlines():
        key, _, value = line.strip().partition("=")
        if key.strip() == "WorkingDirectory":
            value = value.strip().removeprefix("-")  # '-': systemd's "ignore if missing"
            if value.startswith("/"):
                return Path(value.replace("%%", "%"))
    return None


def find_show(root: Path | None = None) -> list[Installed]:
    """The show named by $INSTALLATION_SHOW if set, else every show an installed unit
    runs (each once; more than one means the caller must ask which)."""
    named = os.environ.get(ENV_VAR, "").strip()
    if named:
        return [Installed(Path(named), f"${ENV_VAR}")]
    found: list[Installed] = []
    for path in unit_paths(root):
        try:
            text = read_bounded(path, UNIT_LIMIT).decode("utf-8", "replace")
        except (FileNotFoundError, Damage):
            continue
        show = show_in_unit(text)
        if show is not None and show not in {f.show for f in found}:
            found.append(Installed(show, str(path)))
    return found
