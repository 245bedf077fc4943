"""Predictable failures of `installation run`, as a technician meets them in a terminal
and in the journal: one line with the fix, a documented exit code, no traceback.

Real processes: the CLI in a subprocess, a real worker child, the real status file.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from installation.storage.outputs import DIR_ACCEPTS
from tests import shows

REPO = Path(__file__).resolve().parents[2]
ENV = {k: v for k, v in os.environ.items() if k != "JOURNAL_STREAM"}
ENV |= {"PYTHONPATH": str(REPO), "SDL_AUDIODRIVER": "dummy"}
FIX = (
    "run inside a desktop session, on a console with SDL_VIDEODRIVER=kmsdrm, "
    "or headless with SDL_VIDEODRIVER=dummy"
)


def write_show(folder: Path, **variations: str | Path) -> Path:
    """A small show without a [dice] table (its defaults)."""
    return shows.write_show(folder, show={"name": "one-line"}, dice=None, variations=variations)


def run(show: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "installation", "run", str(show), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**ENV, **env},
        stdin=subprocess.DEVNULL,
    )


def our_lines(stderr: str) -> list[str]:
    """Lines the installation wrote (SDL's own C-level lines left out)."""
    return [line for line in stderr.splitlines() if "installation" in line]


def test_a_missing_video_driver_is_one_line_and_exit_3(tmp_path: Path) -> None:
    show = write_show(tmp_path / "show")
    done = run(show, "--exit-after", "5", SDL_VIDEODRIVER="nonexistent")
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert our_lines(done.stderr) == [
        f"installation run: no display (nonexistent not available): {FIX}"
    ]


def test_in_the_journal_the_one_line_is_a_log_line_at_error_priority(tmp_path: Path) -> None:
    """systemd names its journal stream in JOURNAL_STREAM (device:inode of stderr): then
    the line carries its priority (<3>) instead of being written twice. A stale variable
    (stderr redirected since) is not believed."""
    show = write_show(tmp_path / "show")
    read, write = os.pipe()
    st = os.fstat(write)
    journal = f"{st.st_dev}:{st.st_ino}"
    with os.fdopen(read) as reader:
        code = subprocess.call(
            [sys.executable, "-m", "installation", "run", str(show), "--exit-after", "5"],
            stdout=subprocess.DEVNULL,
            stderr=write,
            stdin=subprocess.DEVNULL,
            timeout=120,
            env={**ENV, "SDL_VIDEODRIVER": "nonexistent", "JOURNAL_STREAM": journal},
        )
        os.close(write)
        stderr = reader.read()
    assert code == 3, stderr
    assert our_lines(stderr) == [
        f"<3>installation.run: no display (nonexistent not available): {FIX}"
    ]
    stale = run(show, "--exit-after", "5", SDL_VIDEODRIVER="nonexistent", JOURNAL_STREAM=journal)
    assert our_lines(stale.stderr) == [
        f"installation run: no display (nonexistent not available): {FIX}"
    ]


def status(show: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads((show / "var" / "status.json").read_text())
    except (OSError, ValueError):
        return {}
    return data


def test_a_missing_model_is_one_fail_line_and_the_show_runs_on(tmp_path: Path) -> None:
    """Not an exit at all: the fallback renders, one line says FAIL with the fix, and a
    clean stop exits 0."""
    model = tmp_path / "models-disk" / "sd"
    show = write_show(tmp_path / "show", engine="diffusers", model=model)
    proc = subprocess.Popen(
        [sys.executable, "-m", "installation", "run", str(show), "--headless"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not status(show).get("sections", {}).get("worker", {}).get("model"):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the status never said FAIL"
            time.sleep(0.05)
        worker = status(show)["sections"]["worker"]
        assert worker["engine"] == "fallback" and worker["degraded"] is True
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "Traceback" not in out + err
    fail = [line for line in err.splitlines() if "FAIL" in line]
    assert fail == [
        f"<4>installation.app: engine: FAIL: engine diffusers did not load: {model} not found: "
        "mount the model disk or fix the show's model paths. The fallback engine renders "
        "meanwhile; tried again every 60 s and on reload"
    ]


def test_a_screenshot_dir_is_a_folder_never_a_link_and_made_only_with_parents(
    tmp_path: Path,
) -> None:
    """--screenshot-dir follows the rules of every user-named output: a link, a file or
    a missing parent is one line and exit 2 before any window, and nothing is made."""
    show = write_show(tmp_path / "show")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "link").symlink_to(elsewhere)
    (tmp_path / "file").write_text("notes")
    missing = tmp_path / "no" / "shots"
    refused = {
        tmp_path / "link": f"is a symlink (to {elsewhere}); --screenshot-dir takes {DIR_ACCEPTS}",
        tmp_path / "file": f"is a regular file; --screenshot-dir takes {DIR_ACCEPTS}",
        missing: f"the folder {missing.parent} does not exist; create it first or add --parents",
    }
    for path, why in refused.items():
        done = run(show, "--headless", "--exit-after", "5", "--screenshot-dir", str(path))
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr
        assert our_lines(done.stderr) == [f"installation run: --screenshot-dir {path}: {why}"]
    assert list(elsewhere.iterdir()) == [] and not missing.parent.exists()
    assert (tmp_path / "file").read_text() == "notes"
    made = run(
        show, "--headless", "--exit-after", "1", "--screenshot-dir", str(missing), "--parents"
    )
    assert made.returncode == 0, made.stderr
    assert missing.is_dir()
