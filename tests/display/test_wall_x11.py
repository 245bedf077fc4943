"""Two screens from one process on a real X server, read back from the root window.

One wide Xvfb screen (1920x540) holds the painting's screen and the variation's screen
side by side at their `window` rectangles (`installation run --window`); `xwd -root`
shows what X has on screen. (SDL 2.32 opens every window on X screen 0 and Xvfb has one
RandR output, so fullscreen-per-display cannot be shown here: test_wall.py checks display
selection with a fake display list.)
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image
from test_kiosk_x11 import start_xvfb

from tests.conftest import need_tool
from tests.display.xwd import read_xwd

RED, BLUE = (220, 40, 40), (40, 60, 220)
SHOW = """
[show]
name = "two"
title = "Diptych"
[artwork]
paintings = ["red.png", "blue.png"]
[dice]
count = 2
[variations]
width = 96
height = 64
strength = 0.9
[display]
fullscreen = false
window_size = [960, 540]
transition_ms = 0
fit = "cover"
label = false
attract_after_s = 600
[osc]
listen = ""
[[screens]]
display = 0
content = "painting"
window = [0, 0, 960, 540]
[[screens]]
display = 0
content = "variation"
window = [960, 0, 960, 540]
"""


def near(pixel: np.ndarray, colour: tuple[int, int, int]) -> bool:
    return bool(np.abs(pixel.astype(int) - colour).max() < 12)


def test_painting_and_variation_change_together_side_by_side(tmp_path: Path) -> None:
    xwd = need_tool("xwd")
    xvfb, display = start_xvfb(tmp_path, "1920x540x24")
    run = None
    try:
        show = tmp_path / "show"
        show.mkdir()
        (show / "show.toml").write_text(SHOW)
        Image.new("RGB", (96, 64), RED).save(show / "red.png")
        Image.new("RGB", (96, 64), BLUE).save(show / "blue.png")
        env = {**os.environ, "DISPLAY": display, "SDL_VIDEODRIVER": "x11"}
        log = (tmp_path / "run.log").open("wb")
        run = subprocess.Popen(
            [sys.executable, "-m", "installation", "run", str(show), "--window",
             "--auto-throw", "0.7", "--exit-after", "60"],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        snapshots: list[tuple[tuple[int, ...], bytes]] = []
        joint_changes = 0
        deadline = time.monotonic() + 50
        while time.monotonic() < deadline and run.poll() is None:
            dump = subprocess.run(
                [xwd, "-root", "-silent", "-display", display], capture_output=True, timeout=20
            )
            screen = read_xwd(dump.stdout)
            assert screen.shape == (540, 1920, 3)
            left, right = screen[:, :960], screen[:, 960:]
            paint = tuple(int(v) for v in left[270, 480])
            if not (near(left[270, 480], RED) or near(left[270, 480], BLUE)):
                continue  # not up yet (black before the first frame)
            top = left[10:300:6, 10:950:6].astype(int)  # above the invitation and the dots
            assert (abs(top - top[0, 0]).max(axis=2) < 12).all(), "the painting fills its screen"
            variation = right[::8, ::8].tobytes()
            if right[::8, ::8].std() < 3:
                continue  # the attract painting, before the first throw's variation
            if snapshots and snapshots[-1][0] != paint and snapshots[-1][1] != variation:
                joint_changes += 1  # a throw changed the painting and the variation
            snapshots.append((paint, variation))
            if joint_changes >= 2 and len({p for p, _ in snapshots}) == 2:
                break
        out = (tmp_path / "run.log").read_text(errors="replace")[-3000:]
        assert len({p for p, _ in snapshots}) == 2, out  # both paintings were shown
        assert len({v for _, v in snapshots}) >= 3, out  # the variation changed with throws
        assert joint_changes >= 2, out
    finally:
        if run is not None:
            run.terminate()
            run.wait(20)
        xvfb.terminate()
        xvfb.wait(10)
