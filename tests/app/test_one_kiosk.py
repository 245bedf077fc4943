"""One kiosk per storage folder (issue 12.2, 12.13), with real `installation run`
processes: a second one of the same show, or of another show on the same storage,
says who runs in one line and exits 5; a kill -9'd first leaves no stale lock; a
read-only storage folder says how to fix it and exits 4."""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from installation.storage.lock import LOCK_NAME
from tests import shows
from tests.disks import read_only, tmpfs

ENV = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}


def show_file(path: Path, name: str, storage: Path | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tables = {"show": {"name": name}, "storage": {"dir": storage} if storage else None}
    path.write_text(shows.show_toml(**tables), "utf-8")
    return path


def command(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "installation", *map(str, args)]


def run(*args: str | Path) -> tuple[subprocess.CompletedProcess[str], float]:
    """The finished process and the CPU seconds it took (shown by -s, never asserted)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(command(*args), capture_output=True, text=True, timeout=120, env=ENV)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return proc, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def one_line(proc: subprocess.CompletedProcess[str]) -> str:
    """The single `installation run:` line of a refused start; no traceback."""
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("installation run:")]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def wait_for(done: object, what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.fixture
def first(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A running kiosk of the show in tmp_path/show (its own process group, so its worker
    is ended with it at the end), once its status file shows it running."""
    show_file(tmp_path / "show" / "show.toml", "unwind")
    proc = subprocess.Popen(
        command("run", tmp_path / "show", "--headless", "--exit-after", "300"),
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        status = tmp_path / "show" / "var" / "status.json"
        wait_for(lambda: status.exists() or proc.poll() is not None, "the first kiosk to run")
        assert proc.poll() is None, f"the first kiosk ended with {proc.returncode}"
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # the kiosk and its worker, by group id
        proc.wait(timeout=30)


def test_a_second_kiosk_on_the_same_storage_says_who_runs_and_exits_5(
    first: subprocess.Popen[bytes], tmp_path: Path
) -> None:
    storage = tmp_path / "show" / "var"
    assert (storage / LOCK_NAME).read_text().split("\n")[:2] == [str(first.pid), "unwind"]
    same, took = run("run", tmp_path / "show", "--headless")
    assert same.returncode == 5, same.stderr
    line = one_line(same)
    assert line == f"installation run: already running (pid {first.pid}): unwind uses {storage}"
    # another show file whose storage is the same folder
    other = show_file(tmp_path / "show" / "other.toml", "other")
    again, _ = run("run", other, "--headless")
    assert again.returncode == 5 and f"(pid {first.pid}): unwind uses" in one_line(again)
    assert first.poll() is None  # the first one never noticed
    print(f"second kiosk refused after {took:.2f} s of CPU")


def test_a_kill_9_leaves_no_stale_lock(first: subprocess.Popen[bytes], tmp_path: Path) -> None:
    os.kill(first.pid, signal.SIGKILL)  # its worker child may live on a little: it has no lock
    first.wait(timeout=30)
    proc, _ = run("run", tmp_path / "show", "--headless", "--exit-after", "1")
    assert proc.returncode == 0, proc.stderr
    assert "already running" not in proc.stderr


def test_read_only_storage_says_so_and_exits_4(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "ro") as disk:
        read_only(disk)
        here = show_file(tmp_path / "a" / "show.toml", "unwind", disk)
        below = show_file(tmp_path / "b" / "show.toml", "unwind", disk / "var")
        (at, _), (under, _) = run("run", here.parent, "--headless"), run("run", below, "--headless")
    for proc, what in ((at, f"storage {disk}: cannot open"), (under, "var cannot be created")):
        assert proc.returncode == 4, proc.stderr
        line = one_line(proc)
        assert what in line and "(Read-only file system); remount it read-write" in line, line
        assert "or set [storage] dir in show.toml" in line
