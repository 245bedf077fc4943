"""Benchmarks 9 and 10: two 1080p screens from one process; the cost of a sharp upscale."""

from __future__ import annotations

import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import Result, ms_since, pct, wait_until
from bench.latency import SETTLE_MS, _background_variations
from bench.wall import write_show
from installation.app.runtime import frame_loop

SCREENS = """
[display]
fullscreen = false
window_size = [1920, 1080]
transition_ms = 1200
[[screens]]
display = 0
content = "painting"
window = [0, 0, 1920, 1080]
[[screens]]
display = 1
content = "variation"
window = [1920, 0, 1920, 1080]
"""


def bench_two_screens(tmp: Path, seconds: float, model: Path) -> Result:
    """Benchmark 9: frame pacing of a Wall of two 1920x1080 windows, idle and generating,
    beside one 1920x1080 Kiosk measured in the same run; SDL's dummy driver, then Xvfb."""
    from bench.frames import xvfb

    result = Result(
        "9",
        "Frame times with two 1080p screens",
        "Intervals between the real App's frames (each return of frame(); a still frame "
        "draws and flips nothing), 60 fps target, crossfade 1200 ms, a throw every second: "
        "one 1920x1080 Kiosk, then a Wall of two 1920x1080 windows (painting + variation, "
        "fading on the same frame); each with the worker idle, then while the worker child "
        "renders the tiny model back to back (cache off); under SDL's dummy driver, then on "
        "Xvfb (x11 driver, one 3840x1080 screen).",
    )
    work: dict[str, list[float]] = {}
    presents = {}
    for driver in ("dummy", "Xvfb"):
        with xvfb() if driver == "Xvfb" else nullcontext("dummy") as display:
            if display is None:
                result.notes.append("Xvfb is not installed: the x11 rows are missing")
                continue
            for layout, screens in (("one screen", ""), ("two screens", SCREENS)):
                folder = tmp / f"{driver}-{layout.replace(' ', '-')}"
                presents[f"{driver}, {layout}"] = _layout(
                    result, f"{driver}, {layout}", folder, screens, seconds, model, work
                )
    for driver in ("dummy", "Xvfb"):
        for phase in ("idle", "generating"):
            one, two = (work.get(f"{driver}, {n}, {phase}") for n in ("one screen", "two screens"))
            if one and two:
                ratio = pct(two, 50) / max(pct(one, 50), 1e-9)
                result.add(f"{driver}, {phase}: work p50 two screens / one", ratio, "x")
    result.notes.append(f"variations presented: {presents}")
    return result


def _layout(
    result: Result,
    name: str,
    folder: Path,
    screens: str,
    seconds: float,
    model: Path,
    work: dict[str, list[float]],
) -> int:
    from bench.frames import frame_rows, redraw_delta, stamp_frames
    from installation.app import RunOptions
    from installation.app.build import build_app
    from installation.show.load import load_show

    write_show(
        folder, port="", settle_ms=SETTLE_MS, size=64, transition_ms=1200, model=model,
        cache=False,
    )  # fmt: skip
    if screens:
        text = (folder / "show.toml").read_text("utf-8")
        display, end = text.index("[display]"), text.index("[osc]")
        (folder / "show.toml").write_text(text[:display] + screens + text[end:], "utf-8")
    app = build_app(load_show(folder), RunOptions(window=True))
    real_present = app.kiosk.present
    shown = [0]

    def present(*args: Any, **kw: Any) -> None:
        shown[0] += 1
        real_present(*args, **kw)

    app.kiosk.present = present  # type: ignore[method-assign]
    app.start()
    try:
        with frame_loop():  # as the show's own loop runs (app/runtime.py)
            frames = stamp_frames(app.kiosk)
            wait_until(app.step, lambda: app.worker.ready, 60)
            for phase in ("idle", "generating"):
                start, before = len(frames.ends), dict(app.kiosk.stats().get("redraws", {}))
                _run(app, seconds, phase == "generating")
                intervals, work[f"{name}, {phase}"] = frames.since(start)
                redraws = redraw_delta(before, app.kiosk.stats().get("redraws", {}))
                cpu = frames.cpu_since(start)
                frame_rows(
                    result, f"{name}, {phase}", intervals, work[f"{name}, {phase}"], redraws, cpu
                )
    finally:
        app.stop()
    return shown[0]


def _run(app: Any, seconds: float, busy: bool) -> None:
    from installation.core.events import RandomThrow

    t0 = time.perf_counter()
    next_throw = t0 + 1.0
    variations = _background_variations(app)
    while ms_since(t0) < seconds * 1000:
        if busy and app.worker.health()["queued"] < 2:
            for v in variations:
                app.worker.request(v, live=False)
        if time.perf_counter() >= next_throw:
            app.inbox.put(RandomThrow("bench"))
            next_throw += 1.0
        app.step()


def bench_upscale(repeats: int) -> Result:
    """Benchmark 10: painting one slide with smoothscale vs Lanczos + sharpening."""
    import pygame

    from installation.display.slides import SlideJob, SlideStyle, render_slide

    result = Result(
        "10",
        "Upscale cost per slide (display upscale = smooth | lanczos)",
        "render_slide alone (the slide painter thread's work, not the frame loop): a 512x512 "
        "and a 768x576 picture to a 1920x1080 slide, contain, no label; interleaved, "
        "median of the repeats.",
    )
    pygame.font.init()
    rng = np.random.default_rng(1)
    for w, h in ((512, 512), (768, 576)):
        image = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
        times: dict[str, list[float]] = {"smooth": [], "lanczos": []}
        for _ in range(repeats):
            for mode in times:
                style = SlideStyle(
                    (1920, 1080), 32, (0xFF0000, 0xFF00, 0xFF, 0), "contain", (0, 0, 0),
                    False, "", "", upscale=mode,
                )  # fmt: skip
                t0 = time.perf_counter()
                render_slide(SlideJob("last", "present", image, None, False, style))
                times[mode].append(ms_since(t0))
        for mode, values in times.items():
            result.add(f"{w}x{h} -> 1920x1080 {mode} p50", pct(values, 50), "ms")
        ratio = pct(times["lanczos"], 50) / pct(times["smooth"], 50)
        result.add(f"{w}x{h}: lanczos / smooth", ratio, "x")
    result.samples = repeats * 4
    return result
