"""Without a screen, `doctor` and `run` agree: SDL's invisible fallback driver is refused.

Real processes with the environment of an ssh session on the gallery machine (no
SDL_VIDEODRIVER, no DISPLAY, no WAYLAND_DISPLAY): SDL then picks its 'offscreen' driver,
which `run` refuses (a black wall with no error); doctor must say FAIL with the fix.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from installation.ops.doctor_checks import DISPLAY_PROBE

REPO = Path(__file__).resolve().parents[2]
SCREENLESS = {
    k: v
    for k, v in os.environ.items()
    if k not in ("SDL_VIDEODRIVER", "DISPLAY", "WAYLAND_DISPLAY", "JOURNAL_STREAM")
}
SCREENLESS |= {"PYTHONPATH": str(REPO), "SDL_AUDIODRIVER": "dummy"}


def installation(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "installation", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        env=SCREENLESS,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def show(tmp_path: Path) -> Path:
    folder = tmp_path / "show"
    folder.mkdir()
    (folder / "show.toml").write_text('[show]\nname = "screenless"\n[osc]\nlisten = ""\n')
    return folder


def sdl_choice() -> str:
    probe = subprocess.run(
        [sys.executable, "-c", DISPLAY_PROBE],
        capture_output=True,
        text=True,
        timeout=60,
        env=SCREENLESS,
    )
    try:
        return str(json.loads(probe.stdout.strip().splitlines()[-1])["driver"])
    except (ValueError, IndexError):
        return "(none)"


def test_doctor_fails_the_invisible_driver_that_run_refuses(show: Path) -> None:
    if sdl_choice() != "offscreen":
        pytest.skip("this machine has a screen: SDL did not fall back to 'offscreen'")
    doctor = installation("doctor", show)
    assert doctor.returncode == 1, doctor.stdout + doctor.stderr
    lines = doctor.stdout.splitlines()
    row = next(i for i, line in enumerate(lines) if line.split()[:2] == ["FAIL", "display"])
    assert "driver offscreen" in lines[row]
    assert "SDL fell back to its invisible 'offscreen' driver" in lines[row]
    assert "`installation run` refuses it" in lines[row]
    assert "fix: run doctor where and how the kiosk runs" in lines[row + 1]
    assert "SDL_VIDEODRIVER=kmsdrm" in lines[row + 1]

    run = installation("run", show, "--exit-after", "5")
    assert run.returncode == 3, run.stderr
    ours = [line for line in run.stderr.splitlines() if "installation" in line]
    assert ours == [
        "installation run: no display: SDL fell back to its invisible 'offscreen' driver; "
        "run inside a desktop session, on a console with SDL_VIDEODRIVER=kmsdrm, or headless "
        "with SDL_VIDEODRIVER=dummy"
    ]
    assert "Traceback" not in run.stdout + run.stderr
