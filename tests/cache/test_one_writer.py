"""The outcome cache has one writer: the process that holds the storage lock.

With a real second process holding <storage>/kiosk.lock (as a running kiosk does),
`prerender` refuses in one line naming that process and exits 5, like a second `run`;
`preview` and `sheet` run beside it and read the cache without changing it (no file
written, touched or deleted, not even a temp file a kiosk's write might still need).
With the lock free, each takes it for its run and fills the cache as before.
"""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from installation.storage.lock import LOCK_NAME, StorageLock
from tests.shows import write_show

ENV = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
HOLD = """
import sys
from pathlib import Path
from installation.storage.lock import StorageLock
with StorageLock.acquire(Path(sys.argv[1]), sys.argv[2]):
    print("held", flush=True)
    sys.stdin.read()  # until the test closes our stdin
"""


def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "installation", *map(str, args)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, env=ENV)


@pytest.fixture
def show(tmp_path: Path) -> Path:
    return write_show(
        tmp_path / "show",
        show={"name": "writers"},
        dice={"faces": 3},
        variations={"engine": "fallback"},
    )


@contextlib.contextmanager
def holding(storage: Path, holder: str = "wall") -> Iterator[subprocess.Popen[str]]:
    """Another process holding `storage`'s lock (as a kiosk does), once it says it does."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(storage), holder],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        assert ready and proc.stdout.readline() == "held\n", "the holder never took the lock"
        yield proc
        assert proc.poll() is None  # still holding: nothing made it let go
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)


@pytest.fixture
def kiosk(show: Path) -> Iterator[subprocess.Popen[str]]:
    with holding(show / "var") as proc:
        yield proc


def cache_files(show: Path) -> dict[str, int]:
    """Every name in the cache folder with its mtime (ns): what a writer would change."""
    folder = show / "var" / "cache"
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} if folder.exists() else {}


def test_prerender_beside_a_kiosk_names_it_and_exits_5(
    show: Path, kiosk: subprocess.Popen[str]
) -> None:
    done = cli("prerender", show)
    assert done.returncode == 5, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [
        f"prerender: already running (pid {kiosk.pid}): wall uses {show / 'var'}; the cache "
        "has one writer: stop that one first (the kiosk: systemctl stop installation), "
        "then prerender again"
    ]
    assert cache_files(show) == {}


def test_prerender_holds_the_lock_and_lets_go(show: Path) -> None:
    done = cli("prerender", show)
    assert done.returncode == 0, done.stderr
    assert len(cache_files(show)) == 9
    with StorageLock.acquire(show / "var", "next"):  # free again once it ended
        pass


def test_preview_and_sheet_beside_a_kiosk_read_the_cache_and_change_nothing(
    show: Path, tmp_path: Path
) -> None:
    first = cli("preview", show, "--dice", "2,3", "-o", tmp_path / "a.png")
    assert first.returncode == 0, first.stderr
    assert "rendered by fallback" in first.stdout and len(cache_files(show)) == 1
    assert (show / "var" / LOCK_NAME).read_text() == ""  # it held the lock, and let go
    in_flight = show / "var" / "cache" / ".kiosk-write.1234.tmp"
    in_flight.write_bytes(b"half a picture")  # a temp file a kiosk may be writing
    before = cache_files(show)

    with holding(show / "var") as holder:
        hit = cli("preview", show, "--dice", "2,3", "-o", tmp_path / "b.png")
        miss = cli("preview", show, "--dice", "1,1", "-o", tmp_path / "c.png")
        sheet = cli("sheet", show, "-o", tmp_path / "sheet.png")
    note = f"already running (pid {holder.pid}): wall uses {show / 'var'}; reading the cache"
    for done, tool in ((hit, "preview"), (miss, "preview"), (sheet, "sheet")):
        assert done.returncode == 0, done.stderr
        assert f"{tool}: {note}, not filling it" in done.stderr.splitlines(), done.stderr
    assert "from the cache" in hit.stdout
    assert "rendered by fallback" in miss.stdout
    assert "9 outcomes, 3x3 tiles, 8 rendered, 1 cached" in sheet.stdout
    assert cache_files(show) == before  # nothing written, touched or deleted
    assert (tmp_path / "b.png").read_bytes() != b"" and (tmp_path / "sheet.png").exists()


def test_sheet_with_the_lock_free_fills_the_cache(show: Path, tmp_path: Path) -> None:
    done = cli("sheet", show, "-o", tmp_path / "sheet.png")
    assert done.returncode == 0, done.stderr
    assert "not filling" not in done.stderr
    assert len(cache_files(show)) == 9


def test_a_kiosk_started_during_a_sheet_exits_4_so_systemd_starts_it_again(show: Path) -> None:
    """A tool ends by itself: `run` says it waits for it and exits 4 (restarted by the
    units), not 5 (RestartPreventExitStatus: the wall would stay dark until someone came)."""
    with holding(show / "var", "writers (installation sheet)") as sheet:
        done = cli("run", show, "--headless", "--exit-after", "1")
    assert done.returncode == 4, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1] == (
        f"installation run: already running (pid {sheet.pid}): writers (installation sheet) "
        f"uses {show / 'var'}; the kiosk starts once `installation sheet` has finished"
    )
    assert cli("run", show, "--headless", "--exit-after", "1").returncode == 0  # it has
