"""Low-level fault injection: bad datagrams, a full disk, a tmpfs, a UDP sender, a raw
HTTP request (the console's security test and its bench).

The dice faults (unplug, silence, noise) are the emulator's own; these are the rest.
"""

from __future__ import annotations

import contextlib
import errno
import os
import random
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from pythonosc.osc_bundle_builder import OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder

BROKEN_SHOW = '[dice]\ncount = "many"\n[variations\nstrength = 7\n'


def osc_message(address: str, *args: Any) -> bytes:
    b = OscMessageBuilder(address)
    for a in args:
        b.add_arg(a)
    return b.build().dgram


def flood_datagrams(rng: random.Random, count: int, dice: int = 2) -> list[bytes]:
    """`count` control datagrams: junk, bad args, huge, far-future bundles, status, throws."""
    bundle = OscBundleBuilder(time.time() + 3600)  # type: ignore[arg-type]  # epoch float is fine
    bundle.add_content(OscMessageBuilder("/installation/throw").build())
    fixed = [
        b"/installation/throw\0",  # truncated: no type tags
        b"/\xff\xfe\0,i\0\0\0\0\0\1",  # an address that is not UTF-8
        osc_message("/installation/throw", "x", 2.5),
        osc_message("/installation/throw", *([9] * dice)),
        osc_message("/installation/nope", 1),
        bundle.build().dgram,
        b"\0" * 9000,  # over the control port's size limit
        osc_message("/installation/status"),
    ]
    out = []
    for _ in range(count):
        pick = rng.randrange(len(fixed) + 2)
        if pick == len(fixed):
            out.append(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64))))
        elif pick == len(fixed) + 1:
            out.append(
                osc_message("/installation/throw", *(rng.randint(1, 6) for _ in range(dice)))
            )
        else:
            out.append(fixed[pick])
    return out


def send_udp(port: int, datagrams: list[bytes], host: str = "127.0.0.1") -> None:
    """Send as fast as the socket takes them, with a breath every 50 so most arrive."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for i, d in enumerate(datagrams, start=1):
            with contextlib.suppress(OSError):
                s.sendto(d, (host, port))
            if i % 50 == 0:
                time.sleep(0.01)


def send_raw_http(port: int, data: bytes, host: str = "127.0.0.1") -> int:
    """One request as raw bytes on its own connection; the answer's status code (0: the
    server closed it without one)."""
    with socket.create_connection((host, port), timeout=5) as s:
        s.sendall(data)
        answer = b""
        while b"\r\n" not in answer:
            chunk = s.recv(4096)
            if not chunk:
                break
            answer += chunk
    parts = answer.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def fill_disk(path: Path) -> int:
    """Write `path` until the file system is full (ENOSPC); returns the bytes written."""
    chunk, written = b"\0" * 65536, 0
    with open(path, "wb", buffering=0) as f:
        try:
            while True:
                written += f.write(chunk) or 0
        except OSError as e:
            if e.errno != errno.ENOSPC:
                raise
    return written


class KeepFull:
    """Keeps a file system full while the app runs: whatever the app frees (fresh mode
    deletes used cache PNGs) is taken back within a few ms, so a small state write
    cannot slip into freed pages and the fault is certain, not a race."""

    def __init__(self, path: Path, every_s: float = 0.002) -> None:
        self.path = path
        self.every_s = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="keep-full", daemon=True)

    def __enter__(self) -> KeepFull:
        fill_disk(self.path)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5.0)
        self.path.unlink(missing_ok=True)

    def _run(self) -> None:
        chunk = b"\0" * 4096
        with open(self.path, "ab", buffering=0) as f:
            while not self._stop.wait(self.every_s):
                try:
                    while True:
                        f.write(chunk)
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        return


def mount_tmpfs(path: Path, size: str = "4m") -> str:
    """Mount a small tmpfs on `path`; '' on success, else why not (not root, no mount)."""
    if os.geteuid() != 0:
        return "mounting a tmpfs needs root"
    return run_cmd(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path)])


def unmount(path: Path) -> None:
    if run_cmd(["umount", str(path)]):
        run_cmd(["umount", "-l", str(path)])  # busy: detach lazily


def run_cmd(cmd: list[str]) -> str:
    """Run a system command; '' on success, else its error text."""
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=15, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        return str(e)
    return "" if p.returncode == 0 else (p.stderr.strip() or f"exit {p.returncode}")
