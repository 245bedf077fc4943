"""Partial updates on a real X server: only the rectangles asked for reach the screen.

A child process (SDL's x11 driver needs its own environment) opens a pygame.Window on
Xvfb, shows red, paints the whole surface blue and updates only one rectangle through
window_rects.rect_updater; `xwd -root` then shows blue inside that rectangle and red
outside it. It also checks the X11 framebuffer hint init_pygame sets, and that a value
the user set is kept.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from test_kiosk_x11 import start_xvfb

from tests.conftest import need_tool
from tests.display.xwd import read_xwd

CHILD = """
import json, os, subprocess, sys
import pygame
from installation.display.window import init_pygame
from installation.display.window_rects import rect_updater

init_pygame()
hint = os.environ.get("SDL_FRAMEBUFFER_ACCELERATION")
window = pygame.Window("rects", (200, 100), (0, 0), borderless=True)
surface = window.get_surface()
surface.fill((255, 0, 0))
window.flip()
pygame.event.pump()
surface.fill((0, 0, 255))
rect_updater(window)([pygame.Rect(0, 0, 50, 40), pygame.Rect(150, 60, 80, 80)])
pygame.event.pump()
shot = subprocess.run([sys.argv[1], "-root", "-silent"], capture_output=True, check=True)
open(sys.argv[2], "wb").write(shot.stdout)
print(json.dumps({"driver": pygame.display.get_driver(), "hint": hint}))
"""


def run_child(tmp_path: Path, display: str, **env: str) -> tuple[dict[str, str], np.ndarray]:
    xwd = need_tool("xwd")
    shot = tmp_path / "root.xwd"
    environ = {**os.environ, "DISPLAY": display, "SDL_VIDEODRIVER": "x11"}
    environ.pop("SDL_FRAMEBUFFER_ACCELERATION", None)
    environ.update(env)
    done = subprocess.run(
        [sys.executable, "-c", CHILD, xwd, str(shot)],
        env=environ, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1]), read_xwd(shot.read_bytes())


def test_only_the_rectangles_asked_for_reach_the_screen(tmp_path: Path) -> None:
    xvfb, display = start_xvfb(tmp_path, "320x200x24")
    try:
        info, pixels = run_child(tmp_path, display)
        assert info == {"driver": "x11", "hint": "0"}  # shared memory, not a GL texture
        blue, red = (0, 0, 255), (255, 0, 0)
        for x, y in ((5, 5), (49, 39), (160, 70), (199, 99)):  # inside the rectangles
            assert tuple(pixels[y, x][:3]) == blue, (x, y)
        for x, y in ((60, 5), (5, 50), (100, 50), (149, 99)):  # outside: still red
            assert tuple(pixels[y, x][:3]) == red, (x, y)
        info, _ = run_child(tmp_path, display, SDL_FRAMEBUFFER_ACCELERATION="1")
        assert info["hint"] == "1"  # the user's choice is kept
    finally:
        xvfb.terminate()
        xvfb.wait(10)
