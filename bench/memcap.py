"""Run a command under a real memory limit (a cgroup v1 memory group) and measure it.

`resource.setrlimit(RLIMIT_AS)` is crude for this program: torch and numpy reserve far
more address space than they touch. A cgroup memory limit counts what the processes
really use (resident pages and the page cache they fill), kills on excess like a
systemd `MemoryMax=` would, and reports the peak (`memory.max_usage_in_bytes`).

Needs root and /sys/fs/cgroup/memory (cgroup v1); `available()` says why not.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

MEMORY = Path("/sys/fs/cgroup/memory")


def available() -> str | None:
    """None when a memory cgroup can be made here, else why not."""
    if os.geteuid() != 0:
        return "needs root to create a memory cgroup"
    if not (MEMORY / "cgroup.procs").exists() or not (MEMORY / "memory.limit_in_bytes").exists():
        return "no cgroup v1 memory controller at /sys/fs/cgroup/memory"
    return None


@dataclass
class Measured:
    """What one capped run did. `peak_bytes`: the group's peak (RSS + page cache);
    `peak_rss_bytes`: the largest sum of VmRSS over the group's processes seen by polling."""

    returncode: int | None  # None: still running at the deadline (then killed)
    seconds: float
    peak_bytes: int
    peak_rss_bytes: int
    oom_killed: bool
    first_seen_s: float | None  # when `ready` first returned True


class MemoryGroup:
    """A child memory cgroup with a limit; removed on close (after its processes end)."""

    def __init__(self, name: str, limit_bytes: int) -> None:
        reason = available()
        if reason:
            raise RuntimeError(reason)
        self.path = MEMORY / f"{name}-{os.getpid()}-{time.monotonic_ns()}"
        self.path.mkdir()
        (self.path / "memory.limit_in_bytes").write_text(str(limit_bytes))
        swap = self.path / "memory.memsw.limit_in_bytes"
        if swap.exists():  # no swapping out of the limit either
            swap.write_text(str(limit_bytes))

    def join(self) -> None:
        """Move the calling process into the group (a preexec_fn, before exec)."""
        (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def pids(self) -> list[int]:
        try:
            return [int(p) for p in (self.path / "cgroup.procs").read_text().split()]
        except OSError:
            return []

    def rss_bytes(self) -> int:
        total = 0
        for pid in self.pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
            except (OSError, ValueError):
                continue  # ended meanwhile
        return total

    def peak_bytes(self) -> int:
        return int((self.path / "memory.max_usage_in_bytes").read_text())

    def oom_kills(self) -> int:
        for line in (self.path / "memory.oom_control").read_text().splitlines():
            if line.startswith("oom_kill "):
                return int(line.split()[1])
        return 0  # kernels before 4.13 do not count: returncode -9 tells instead

    def close(self) -> None:
        """Kill what is left in the group and remove it."""
        deadline = time.monotonic() + 10
        while self.pids() and time.monotonic() < deadline:
            for pid in self.pids():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, 9)
            time.sleep(0.05)
        with contextlib.suppress(OSError):
            (self.path / "memory.force_empty").write_text("0")
        with contextlib.suppress(OSError):
            self.path.rmdir()

    def __enter__(self) -> MemoryGroup:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_capped(
    argv: Sequence[str],
    limit_bytes: int,
    timeout_s: float,
    *,
    env: dict[str, str] | None = None,
    ready: Callable[[], bool] | None = None,
    log: Path | None = None,
) -> Measured:
    """Run `argv` in a fresh memory group; poll RSS (and `ready`) every 20 ms until it ends
    or `timeout_s` passes (then it is killed and `returncode` is None)."""
    with MemoryGroup("installation-memcap", limit_bytes) as group:
        out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 - closed below
        try:
            t0 = time.monotonic()
            proc = subprocess.Popen(
                list(argv), stdout=out, stderr=subprocess.STDOUT, env=env, preexec_fn=group.join
            )
            peak_rss, first = 0, None
            while proc.poll() is None and time.monotonic() - t0 < timeout_s:
                peak_rss = max(peak_rss, group.rss_bytes())
                if first is None and ready is not None and ready():
                    first = time.monotonic() - t0
                time.sleep(0.02)
            returncode = proc.poll()
            seconds = time.monotonic() - t0
            if returncode is None:
                proc.kill()
                proc.wait(10)
            if first is None and ready is not None and ready():
                first = seconds
            return Measured(
                returncode, seconds, group.peak_bytes(), peak_rss, group.oom_kills() != 0, first
            )
        finally:
            if log:
                out.close()  # type: ignore[union-attr]
