"""systemd units for unattended operation, rendered with this machine's paths.

The templates live here (not only in systemd/) so an installed package can write
them; the files in the repo's systemd/ folder are these templates rendered with
the example paths below, and a test keeps the two identical.
"""

from __future__ import annotations

import os
import pwd
import re
from pathlib import Path
from string import Template
from typing import Literal

Mode = Literal["console", "desktop"]
MODES: tuple[str, ...] = ("console", "desktop")
UNIT = "installation.service"
EXAMPLE_SHOW = Path("/srv/installation/shows/demo")
EXAMPLE_VENV = Path("/opt/installation/venv")
EXAMPLE_USER = "installation"
_USER_NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
# `installation run`'s exit codes that a restart cannot fix (app/run.py): 2 an invalid
# show, 5 already running (another kiosk holds the storage folder's lock).
NO_RESTART_EXIT_CODES = (2, 5)

_HEADER = """\
# Written by `installation service install`; see systemd/README.md.
# Change the show with its show.toml, not here. Re-run the install after moving
# the show or the venv.
"""

_COMMON_SERVICE = """\
Type=notify
# Only the main process may notify: the generation worker (a child) must not.
NotifyAccess=main
# The kiosk pings every WatchdogSec/2 while frames flow and the generation
# worker is healthy; silence means a hang, and systemd restarts us (SIGABRT
# first, which makes faulthandler dump every thread's stack to the journal).
WatchdogSec=30
Restart=on-failure
RestartSec=5
# `installation run` exits 0 on a clean stop, 1 when frames kept failing, 2 when the
# show is invalid, 3 without a display, 4 when a part could not start (a port in use),
# 5 when another kiosk already runs on the same storage. A restart cannot fix 2 or 5:
# fix the show (`installation validate`) or stop the other kiosk, then restart the unit.
# A model that does not load is no exit: the fallback engine renders meanwhile.
RestartPreventExitStatus=$no_restart
# A floor: loading a model extends it with EXTEND_TIMEOUT_USEC as it goes.
TimeoutStartSec=300
TimeoutStopSec=30
WorkingDirectory=$workdir
# Never touch the network for models: everything is local.
Environment=HF_HUB_OFFLINE=1
Environment=PYTHONUNBUFFERED=1
ExecStart=$exec_start
"""

_START_LIMIT = """\
# Stop retrying after 10 failed starts in 10 minutes (a broken disk or GPU)
# rather than looping forever; `systemctl status` then says start-limit-hit.
StartLimitIntervalSec=600
StartLimitBurst=10
"""

CONSOLE = (
    _HEADER
    + """\
# Console kiosk: no desktop. The installation owns tty1 and draws straight to
# the screen with SDL's kmsdrm backend (pygame-ce's wheel has it).

[Unit]
Description=Dice variation installation (kiosk on tty1)
After=systemd-user-sessions.service network-online.target time-sync.target
After=getty@tty1.service
Wants=network-online.target
Conflicts=getty@tty1.service
"""
    + _START_LIMIT
    + """\
# Unattended galleries: reboot when the start limit is hit (a reboot often
# clears a wedged GPU driver). Uncomment to enable.
#StartLimitAction=reboot

[Service]
"""
    + _COMMON_SERVICE
    + """\
Environment=SDL_VIDEODRIVER=kmsdrm
User=$user
Group=$user
# video: /dev/dri, render: GPU compute, input: keyboard, dialout: the dice.
SupplementaryGroups=video render input dialout
TTYPath=/dev/tty1
TTYReset=yes
TTYVHangup=yes
StandardInput=tty
StandardOutput=journal
StandardError=journal
NoNewPrivileges=yes
ProtectSystem=full
PrivateTmp=yes

[Install]
WantedBy=multi-user.target
"""
)

DESKTOP = (
    _HEADER
    + """\
# Desktop kiosk: a user unit that starts inside the autologin desktop session.
# SDL uses the session's display (DISPLAY / WAYLAND_DISPLAY, imported into the
# user manager by the desktop). The user needs the groups render and dialout.

[Unit]
Description=Dice variation installation (kiosk in the desktop session)
PartOf=graphical-session.target
After=graphical-session.target
"""
    + _START_LIMIT
    + """\

[Service]
"""
    + _COMMON_SERVICE
    + """\

[Install]
WantedBy=graphical-session.target
"""
)

JOURNALD = """\
# Keep the kiosk's logs across reboots, within a fixed budget.
[Journal]
Storage=persistent
SystemMaxUse=500M
MaxRetentionSec=1month
"""

HARDWARE_WATCHDOG = """\
# The hardware watchdog: if systemd itself (or the kernel) hangs, the board's
# watchdog timer reboots the machine. Needs a /dev/watchdog device (most PCs
# and all Raspberry Pis have one; `wdctl` shows it).
[Manager]
RuntimeWatchdogSec=30s
RebootWatchdogSec=10min
"""


def _check_path(label: str, path: Path) -> Path:
    if not path.is_absolute():
        raise ValueError(f"{label} must be an absolute path, got {str(path)!r}")
    if any(c in str(path) for c in "\n\r\0"):
        raise ValueError(f"{label} {str(path)!r} contains a line break; use a plain folder name")
    return path


def _escape(value: str) -> str:
    """Escape systemd specifiers (%) and, for ExecStart, variable expansion ($)."""
    return value.replace("%", "%%").replace("$", "$$")


def _exec_arg(path: Path) -> str:
    text = _escape(str(path))
    if re.search(r"[\s\"'\\;]", text):
        text = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def user_home(user: str) -> Path:
    """The user's home from the password database, else /home/<user>."""
    try:
        return Path(pwd.getpwnam(user).pw_dir)
    except KeyError:
        return Path("/home") / user


def render_units(
    show_dir: Path,
    *,
    user: str,
    venv: Path,
    mode: Mode,
    hardware_watchdog: bool = False,
    home: Path | None = None,
) -> dict[str, str]:
    """Destination path -> file text for this show, user, venv and mode.

    console: a system unit on tty1 plus a persistent-journal drop-in (and the
    hardware watchdog drop-in when asked). desktop: one user unit in the user's
    ~/.config/systemd/user. Raises ValueError naming a bad argument."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if not _USER_NAME.match(user):
        raise ValueError(
            f"user {user!r} is not a valid Linux user name "
            "(lower-case letters, digits, '-' and '_', starting with a letter, at most 32)"
        )
    show_dir = _check_path("show folder", show_dir)
    venv = _check_path("venv", venv)
    exe = venv / "bin" / "installation"
    values = {
        "user": user,
        "workdir": str(show_dir).replace("%", "%%"),  # specifiers only, no $ expansion
        "exec_start": f"{_exec_arg(exe)} run {_exec_arg(show_dir)}",
        "no_restart": " ".join(str(code) for code in NO_RESTART_EXIT_CODES),
    }
    if mode == "desktop":
        base = (home or user_home(user)) / ".config/systemd/user"
        return {str(base / UNIT): Template(DESKTOP).substitute(values)}
    units = {
        f"/etc/systemd/system/{UNIT}": Template(CONSOLE).substitute(values),
        "/etc/systemd/journald.conf.d/50-installation.conf": JOURNALD,
    }
    if hardware_watchdog:
        units["/etc/systemd/system.conf.d/50-installation-watchdog.conf"] = HARDWARE_WATCHDOG
    return units


def example_units() -> dict[str, str]:
    """The repo's systemd/ folder: relative file name -> text (example paths)."""
    console = render_units(
        EXAMPLE_SHOW, user=EXAMPLE_USER, venv=EXAMPLE_VENV, mode="console", hardware_watchdog=True
    )
    desktop = render_units(
        EXAMPLE_SHOW, user=EXAMPLE_USER, venv=EXAMPLE_VENV, mode="desktop", home=Path("/home/x")
    )
    out = {}
    for dest, text in console.items():
        parent = Path(dest).parent.name
        out[Path(dest).name if parent == "system" else f"{parent}/{Path(dest).name}"] = text
    out[f"user/{UNIT}"] = next(iter(desktop.values()))
    return out


def next_steps(mode: Mode, user: str, hardware_watchdog: bool) -> list[str]:
    """The commands a technician runs after the files are in place."""
    if mode == "desktop":
        return [
            f"sudo loginctl enable-linger {user}   # optional: keep the user manager up",
            f"sudo -u {user} XDG_RUNTIME_DIR=/run/user/$(id -u {user}) "
            "systemctl --user daemon-reload",
            f"sudo -u {user} XDG_RUNTIME_DIR=/run/user/$(id -u {user}) "
            f"systemctl --user enable --now {UNIT}",
            f"journalctl --user-unit {UNIT} -f",
        ]
    steps = [
        "sudo systemctl daemon-reload",
        "sudo systemctl restart systemd-journald",
        f"sudo systemctl enable --now {UNIT}",
        f"systemctl status {UNIT}; journalctl -u {UNIT} -f",
    ]
    if hardware_watchdog:
        steps.insert(1, "sudo systemctl daemon-reexec   # applies the hardware watchdog setting")
    return steps


def install_units(units: dict[str, str], root: Path | None, owner: str | None = None) -> list[Path]:
    """Write each file (under `root` if given). owner: chown new files to this user
    (a desktop unit written by root). Returns the paths written."""
    written = []
    for dest, text in units.items():
        path = Path(dest)
        if root is not None:
            path = root / path.relative_to(path.anchor)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.chmod(0o644)
        os.replace(tmp, path)
        if owner is not None and os.geteuid() == 0:
            _chown_tree(path, owner)
        written.append(path)
    return written


def _chown_tree(path: Path, owner: str) -> None:
    """chown the file and the folders created for it inside the owner's home."""
    try:
        entry = pwd.getpwnam(owner)
    except KeyError:
        return
    home = Path(entry.pw_dir)
    while home in path.parents:
        os.chown(path, entry.pw_uid, entry.pw_gid)
        path = path.parent
