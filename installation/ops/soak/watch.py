"""Watching the app under soak from outside: process, cues, status, books, files.

Used by tests/soak (a short CI run) and bench/soak.py (a long run). Nothing here
is imported by the app. The app under test runs `installation run SHOW --headless`
on a show written by `write_show`; the harness hears its OSC cues (`CueLog`),
reads its status file and /proc, and keeps the books on every throw (`Ledger`).
The fault driver is in soak/driver.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pythonosc.osc_packet import OscPacket

REPO = Path(__file__).resolve().parents[3]


# -- /proc ------------------------------------------------------------------------------------
def children(pid: int) -> list[int]:
    """Direct children of `pid`, from /proc/<pid>/task/*/children (no psutil)."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            out += [int(c) for c in (task / "children").read_text().split()]
    return sorted(set(out))


def cmdline(pid: int) -> str:
    try:
        return (
            Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        )
    except OSError:
        return ""


def proc_state(pid: int) -> str:
    """One letter (R, S, T stopped, Z zombie ...) or '' when the process is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[0]


def rss_kb(pid: int) -> int | None:
    """Resident memory (VmRSS) in KiB, None when the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def worker_pids(app_pid: int) -> list[int]:
    """The app's generation worker processes (multiprocessing spawn children, not trackers)."""
    return [
        c
        for c in children(app_pid)
        if "spawn_main" in cmdline(c) and proc_state(c) not in ("", "Z")
    ]


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- the show under test ------------------------------------------------------------------------
SHOW_TOML = """\
[show]
name = "soak"
title = "Soak"
[dice]
count = 2
faces = 6
ports = ["{link}"]
settle_ms = 50
silence_timeout_s = {silence_s}
[variations]
seed_mode = "fresh"
engine = "fallback"
prompt = "a soak test"
width = {size}
height = {size}
steps = 1
[engine]
worker_timeout_s = {worker_timeout_s}
[display]
fullscreen = false
window_size = [{size}, {size}]
transition_ms = 100
fps = {fps}
attract_after_s = 3600
[osc]
listen = "127.0.0.1:{control_port}"
[[osc.targets]]
name = "soak"
host = "127.0.0.1"
port = {cue_port}
[storage]
dir = "{storage}"
[archive]
max_mb = 1  # pruned to stay within the 4 MB storage tmpfs on runs of any length
"""


def write_show(
    folder: Path,
    *,
    link: Path,
    storage: Path,
    control_port: int,
    cue_port: int,
    worker_timeout_s: float = 2.0,
    silence_s: float = 1.0,
    fps: int = 30,
    size: int = 64,
) -> Path:
    """A tiny fresh-seed show (size x size, default 64; fallback engine) wired to the
    harness; returns show.toml."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "show.toml"
    path.write_text(
        SHOW_TOML.format(
            link=link,
            storage=storage,
            control_port=control_port,
            cue_port=cue_port,
            worker_timeout_s=worker_timeout_s,
            silence_s=silence_s,
            fps=fps,
            size=size,
        ),
        "utf-8",
    )
    return path


# -- what the app says over OSC -------------------------------------------------------------------
class CueLog:
    """Receives the app's cues on a loopback port and records (monotonic time, event, args)."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.port = int(self._sock.getsockname()[1])
        self.events: list[tuple[float, str, list[Any]]] = []
        # kept as they arrive, so a check on every cue costs O(1), not O(all cues so far):
        # an hour's soak holds tens of thousands of cues
        self._times: dict[str, list[float]] = {}
        self._landed: list[list[Any]] = []
        self._shown: dict[int, float] = {}
        self.undecodable = 0
        self._cv = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="soak-cues", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data, _ = self._sock.recvfrom(65536)
                messages = [m.message for m in OscPacket(data).messages]
            except TimeoutError:
                continue
            except Exception:
                self.undecodable += 1
                continue
            with self._cv:
                now = time.monotonic()
                for m in messages:
                    name, args = m.address.rsplit("/", 1)[-1], list(m.params)
                    self.events.append((now, name, args))
                    self._times.setdefault(name, []).append(now)
                    if name == "landed":
                        self._landed.append(args)
                    elif name == "shown" and args and isinstance(args[0], int):
                        self._shown.setdefault(args[0], now)
                self._cv.notify_all()

    def times(self, event: str) -> list[float]:
        with self._cv:
            return list(self._times.get(event, ()))

    def count(self, event: str) -> int:
        with self._cv:
            return len(self._times.get(event, ()))

    def landed_index(self, faces: list[int], since: int) -> list[int]:
        """[index] of the first 'landed' cue with `faces` at or after landed index `since`."""
        with self._cv:
            landed = self._landed
            return [i for i in range(since, len(landed)) if landed[i] == faces][:1]

    def settle(self, quiet_s: float, timeout: float = 10.0) -> None:
        """Wait until no cue has arrived for `quiet_s` (a burst has been handled)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._cv:
                last = self.events[-1][0] if self.events else 0.0
            if time.monotonic() - last >= quiet_s:
                return
            time.sleep(quiet_s / 5)

    def shown(self) -> dict[int, float]:
        """Variation number -> when its 'shown' cue arrived (first time)."""
        with self._cv:
            return dict(self._shown)

    def was_shown(self, number: int) -> bool:
        with self._cv:
            return number in self._shown

    def wait(self, predicate: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._cv:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cv.wait(min(left, 0.2))
        return True

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._sock.close()


# -- the app process -----------------------------------------------------------------------------
@dataclass
class Sample:
    at: float
    alive: bool
    rss_kb: int | None
    worker_rss_kb: int | None
    status_age_s: float | None
    frames: int | None
    longest_gap_ms: float | None


class AppProcess:
    """`installation run SHOW --headless` as a child; stderr goes to a file."""

    def __init__(
        self, show_dir: Path, log_path: Path, storage: Path, args: tuple[str, ...] = ()
    ) -> None:
        self.show_dir = show_dir
        self.args = args  # more `run` options (--auto-throw 0.2, say)
        self.log_path = log_path
        self.status_path = storage / "status.json"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None, "start() first"
        return self.proc.pid

    def start(self) -> None:
        env = dict(
            os.environ,
            SDL_VIDEODRIVER="dummy",
            SDL_AUDIODRIVER="dummy",
            PYGAME_HIDE_SUPPORT_PROMPT="1",
            PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        )
        cmd = [sys.executable, "-m", "installation", "run", str(self.show_dir), "--headless"]
        cmd += self.args
        with open(self.log_path, "ab") as log:  # a restarted app adds to the same log
            self.proc = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
            )

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def status(self) -> dict[str, Any] | None:
        """The app's status file, or None while it is missing or being replaced."""
        try:
            data = json.loads(self.status_path.read_text("utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) and data.get("pid") == self.pid else None

    def worker_pid(self) -> int | None:
        pids = worker_pids(self.pid) if self.alive() else []
        return pids[0] if pids else None

    def sample(self) -> Sample:
        status = self.status() or {}
        display = (status.get("sections") or {}).get("display") or {}
        written = status.get("written_at")
        worker = self.worker_pid()
        return Sample(
            at=time.monotonic(),
            alive=self.alive(),
            rss_kb=rss_kb(self.pid),
            worker_rss_kb=rss_kb(worker) if worker else None,
            status_age_s=time.time() - written if isinstance(written, int | float) else None,
            frames=status.get("frames"),
            longest_gap_ms=display.get("longest_gap_ms"),
        )

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def log_since(self, offset: int, limit: int = 1 << 20) -> str:
        """What the app logged after byte `offset` (at most `limit` bytes of it)."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(offset)
                return f.read(limit).decode("utf-8", errors="replace")
        except OSError:
            return ""

    def log_text(self) -> str:
        try:
            return self.log_path.read_text("utf-8", errors="replace")
        except OSError:
            return ""

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM (the app's clean stop), then SIGKILL; stray descendants are killed too."""
        if self.proc is None:
            return None
        kids = _descendants(self.proc.pid)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        for pid in kids:  # e.g. a worker still SIGSTOPped after a failed check
            if proc_state(pid) not in ("", "Z"):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                    os.kill(pid, signal.SIGCONT)
        return self.proc.returncode


def _descendants(pid: int) -> list[int]:
    out: list[int] = []
    todo = children(pid)
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children(p)
    return out


# -- reading the status file ------------------------------------------------------------------
def section(status: dict[str, Any], name: str) -> dict[str, Any]:
    sec = (status.get("sections") or {}).get(name)
    return sec if isinstance(sec, dict) else {}


def dice_status(status: dict[str, Any]) -> dict[str, Any]:
    return section(status, "dice")


def dice_port(status: dict[str, Any]) -> dict[str, Any]:
    ports = dice_status(status).get("ports") or [{}]
    return ports[0] if isinstance(ports[0], dict) else {}
