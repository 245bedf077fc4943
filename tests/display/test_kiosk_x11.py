"""The kiosk on a real X server (Xvfb) through SDL's x11 driver, not the dummy one.

Runs `installation run` as a child process, as a technician would in a desktop
session, and checks that it opens its window on that server and puts pictures up.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from tests.conftest import need_tool

SHOW = """
[show]
name = "x11"
[artwork]
paintings = ["art.png"]
[dice]
count = 2
[variations]
width = 64
height = 64
[display]
fullscreen = false
window_size = [320, 240]
transition_ms = 0
fit = "cover"
[osc]
listen = ""
"""


def start_xvfb(tmp_path: Path, screen: str = "640x480x24") -> tuple[subprocess.Popen[bytes], str]:
    xvfb = need_tool("Xvfb")
    for n in range(91, 120):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            break
    proc = subprocess.Popen(
        [xvfb, f":{n}", "-screen", "0", screen, "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "xvfb.log").open("wb"),
    )
    deadline = time.monotonic() + 10
    while not Path(f"/tmp/.X11-unix/X{n}").exists():
        assert proc.poll() is None, (tmp_path / "xvfb.log").read_text()
        assert time.monotonic() < deadline, "Xvfb did not come up"
        time.sleep(0.05)
    return proc, f":{n}"


def test_the_kiosk_opens_a_window_on_a_real_x_server(tmp_path: Path) -> None:
    xvfb, display = start_xvfb(tmp_path)
    try:
        show = tmp_path / "show"
        show.mkdir()
        (show / "show.toml").write_text(SHOW)
        Image.new("RGB", (64, 64), (200, 30, 30)).save(show / "art.png")
        shots = tmp_path / "shots"
        env = {**os.environ, "DISPLAY": display, "SDL_VIDEODRIVER": "x11"}
        run = subprocess.run(
            [sys.executable, "-m", "installation", "run", str(show), "--window",
             "--auto-throw", "1", "--exit-after", "8", "--screenshot-dir", str(shots)],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr[-2000:]
        assert "driver=x11" in run.stderr
        pictures = sorted(shots.glob("variation-*.png"))
        assert pictures, run.stderr[-2000:]
        pixels = np.asarray(Image.open(pictures[-1]).convert("RGB"))
        assert pixels.shape == (240, 320, 3)
        assert pixels.std() > 5  # a picture, not a black or flat screen
    finally:
        xvfb.terminate()
        xvfb.wait(timeout=10)
