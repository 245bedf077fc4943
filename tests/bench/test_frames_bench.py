"""The frame-time pieces of benchmarks 3 and 9: intervals and work from frame stamps, rows
with goals and reasons, and the private Xvfb server (no timing is asserted)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from types import SimpleNamespace

from bench.common import Result
from bench.frames import FrameLog, frame_rows, stamp_frames, xvfb
from bench.report import verdict
from tests.conftest import need_tool


def test_intervals_and_work_come_from_frame_ends_and_pacer_waits() -> None:
    log = FrameLog(ends=[1.000, 1.020, 1.060, 1.070], waits=[5.0, 15.0, 2.0, 9.0])
    intervals, work = log.since(1)
    assert [round(v, 6) for v in intervals] == [40.0, 10.0]
    assert [round(v, 6) for v in work] == [38.0, 1.0]  # minus the wait inside each


def test_stamp_frames_records_each_frame_and_its_wait() -> None:
    calls: list[str] = []
    pacer = SimpleNamespace(wait=lambda fps: calls.append("wait") or False)
    screen = SimpleNamespace(pacer=pacer)
    screen.frame = lambda: calls.append("draw") or screen.pacer.wait(60)
    log = stamp_frames(screen)
    for _ in range(3):
        screen.frame()
    assert calls == ["draw", "wait"] * 3
    assert len(log.ends) == len(log.waits) == 3 and log.ends == sorted(log.ends)


def test_frame_rows_carry_goals_and_say_why_a_goal_was_missed() -> None:
    result = Result("3", "t", "m")
    intervals = [16.7] * 98 + [40.0, 18.0]
    frame_rows(result, "dummy, idle", intervals, [1.0] * 99 + [30.0], {"full": 2, "part": 3})
    rows = {r.name: r for r in result.rows}
    p99, worst = rows["dummy, idle: frame p99"], rows["dummy, idle: frame max"]
    assert p99.goal == 17.5 and worst.goal == 33.0 and worst.met is False
    assert "work (interval minus pacer wait)" in verdict(worst) and "in part 3" in worst.note
    assert rows["dummy, idle: frames over 33 ms"].value == 1 and result.samples == 100


def test_xvfb_points_sdl_at_its_own_server_and_puts_things_back(tmp_path: Path) -> None:
    need_tool("Xvfb")
    xdpyinfo = need_tool("xdpyinfo")
    before = {k: os.environ.get(k) for k in ("DISPLAY", "SDL_VIDEODRIVER")}
    with xvfb("320x200x24") as display:
        assert display is not None and os.environ["DISPLAY"] == display
        assert os.environ["SDL_VIDEODRIVER"] == "x11"
        assert Path(f"/tmp/.X11-unix/X{display[1:]}").exists()
        info = subprocess.run([xdpyinfo], capture_output=True, text=True, check=True, timeout=30)
        assert "320x200 pixels" in info.stdout
    assert {k: os.environ.get(k) for k in ("DISPLAY", "SDL_VIDEODRIVER")} == before
    assert not Path(f"/tmp/.X{display[1:]}-lock").exists()
