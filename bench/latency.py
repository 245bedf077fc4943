"""Benchmarks 1-3: throw to screen (cache-hit path, live tiny model) and frame times."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import Result, ms_since, pct, spread, wait_until
from bench.stages import StageProbe
from bench.wall import FlipProbe, MemoryWorker, Visitor, dice_link, throw_order, write_show
from installation.app.runtime import frame_loop
from installation.core.events import ThrowCommitted

FRAME_MS = 1000.0 / 60.0
SETTLE_MS = 100  # the benches' settle window; shows default to 300 ms (added 1:1)


@dataclass
class Run:
    """Per-throw timings of one throw-to-screen run, all in ms."""

    total: list[float] = field(default_factory=list)  # last LANDED written -> first frame
    dice: list[float] = field(default_factory=list)  # last LANDED -> ThrowCommitted in inbox
    wall: list[float] = field(default_factory=list)  # ThrowCommitted -> first frame
    extra: list[float] = field(default_factory=list)  # whatever after_shown returns
    present: list[float] = field(default_factory=list)  # Kiosk.present() per image
    wrong: int = 0  # presented faces that were not the throw's
    verified: int = 0

    def processing(self, settle_ms: float) -> list[float]:
        return [t - settle_ms for t in self.total]


def build(
    folder: Path,
    settle_ms: int,
    size: int,
    model: Path | None = None,
    transition_ms: int = 0,
    cache: bool = True,
) -> tuple[Any, Any]:
    """(app, emulator): the real wiring from app.build.build_app, dice on an emulated port."""
    from installation.app import RunOptions
    from installation.app.build import build_app
    from installation.dice.emulator import Emulator
    from installation.show.load import load_show

    emulator = Emulator(2, heartbeat_s=0.5)
    show = load_show(
        write_show(
            folder,
            port=emulator.pty_path,
            settle_ms=settle_ms,
            size=size,
            model=model,
            transition_ms=transition_ms,
            cache=cache,
        )
    )
    return build_app(show, RunOptions()), emulator


def instant_worker(wake: Any = None) -> Any:
    """The instant engine in a real worker child; `wake`: the app's pacing event, as
    app/build.py gives every worker (without it a result waits for the next frame)."""
    from installation.engines.engine import EngineSpec
    from installation.worker.client import WorkerClient

    spec = EngineSpec(factory="bench.engines:instant")
    return WorkerClient(spec, hang_timeout_s=30, wake=wake)


def _stamp_commits(app: Any) -> list[float]:
    """Timestamp every ThrowCommitted the dice link puts into the inbox."""
    stamps: list[float] = []
    real_put = app.inbox.put

    def put(item: Any, *args: Any, **kw: Any) -> None:
        if isinstance(item, ThrowCommitted):
            stamps.append(time.perf_counter())
        real_put(item, *args, **kw)

    app.inbox.put = put
    return stamps


def throw_run(
    app: Any,
    emulator: Any,
    n: int,
    after_shown: Callable[[Any], float] | None = None,
    ready: Callable[[], bool] = lambda: True,
    stages: StageProbe | None = None,
) -> Run:
    """Start the app, throw n times, stop. after_shown(variation) runs between throws;
    `stages` gets each throw's commit and first flip (its breakdown, bench/stages.py)."""
    run, throws = Run(), throw_order(n)
    commits = _stamp_commits(app)
    visitor = Visitor(emulator, throws)
    with FlipProbe(app.kiosk) as probe:
        app.start()
        try:
            with frame_loop():  # as the show's own loop runs (app/runtime.py)
                link = dice_link(app)
                up = lambda: link.status()["connected"] and app.worker.ready and ready()  # noqa: E731
                ok = wait_until(app.step, up, 180)  # the tiny model loads in 40-50 s under load
                if not ok:
                    raise RuntimeError(f"not ready: dice {link.status()}, worker {app.worker!r}")
                thread = threading.Thread(target=visitor.run, daemon=True)
                thread.start()
                visitor.next_throw.set()
                wait_until(lambda: _step(app, probe, visitor, commits, run, after_shown, stages),
                           lambda: len(run.total) >= n, 30 + n * 2.0)  # fmt: skip
        finally:
            visitor.stop.set()
            visitor.next_throw.set()
            app.stop()
            emulator.close()
        run.verified, run.present = probe.verified, probe.present_ms
    return run


def _step(
    app: Any,
    probe: FlipProbe,
    visitor: Visitor,
    commits: list[float],
    run: Run,
    after_shown: Callable[[Any], float] | None,
    stages: StageProbe | None = None,
) -> None:
    shown = len(probe.shown)
    app.step()
    if len(probe.shown) == shown:
        return
    i = len(run.total)
    if i >= len(visitor.landed_at) or i >= len(commits):
        return  # a present with no throw behind it: nothing to pair
    t_shown, landed, committed = probe.shown[-1], visitor.landed_at[i], commits[i]
    run.total.append((t_shown - landed) * 1000)
    run.dice.append((committed - landed) * 1000)
    run.wall.append((t_shown - committed) * 1000)
    variation = app.presenter.presented[-1]
    if variation.faces != visitor.throws[i]:
        run.wrong += 1
    if stages is not None:
        stages.take(committed, t_shown)
    if after_shown is not None:
        run.extra.append(after_shown(variation))
    visitor.next_throw.set()


def _why(run: Run, settle_ms: int) -> str:
    """Where the time went, for a missed goal's verdict."""
    return (
        f"p50 dice side {pct(run.dice, 50) - settle_ms:.1f} ms, display side "
        f"{pct(run.wall, 50):.1f} ms; display side p95 {pct(run.wall, 95):.1f} ms"
    )


def _breakdown(result: Result, run: Run, settle_ms: int) -> None:
    result.add("of which dice side p50 (LANDED -> throw in inbox, minus settle)",
               pct(run.dice, 50) - settle_ms, "ms")  # fmt: skip
    result.add("of which display side p50 (inbox -> first frame)", pct(run.wall, 50), "ms")
    result.add("  of which Kiosk.present() p50 (check and queue; the slide is painted off-thread)",
               pct(run.present, 50), "ms")  # fmt: skip


def bench_cache_hit(tmp: Path, n: int) -> Result:
    """Benchmark 1: throw to screen when the image costs nothing to make."""
    result = Result(
        "1",
        "Throw to screen, cache hit",
        "Last LANDED line written by the Emulator on a pty -> DiceLink -> settle -> App -> "
        "first flip carrying the new 512x512 image on a 1920x1080 Kiosk (SDL dummy, cut, "
        "label on). Processing = total - settle window. Excludes: USB/UART transit, "
        "display scan-out (no vsync under the dummy driver), the crossfade.",
    )
    from installation.cache.cached_worker import with_cache

    runs = {}
    for name in ("worker", "cache", "memory"):
        app, emulator = build(tmp / f"cache-{name}", SETTLE_MS, 512)
        app.worker = MemoryWorker() if name == "memory" else instant_worker(app.inbox.wake)
        if name == "cache":
            app.worker = with_cache(app.show, app.worker)
        runs[name] = throw_run(app, emulator, n, ready=_all_cached(app, name == "cache"))
        prepared = app.kiosk.stats()["prepared_used"]  # slides painted ahead (cached outcomes only)
        result.notes.append(f"{name}: {prepared} of {n} pictures went up on a pre-painted slide")
        result.notes.append(_journal_note(app, name))
    w, c, m = runs["worker"], runs["cache"], runs["memory"]
    result.add("settle window (configured, reported separately)", SETTLE_MS, "ms")
    spread(result, "processing, instant engine in the worker child", w.processing(SETTLE_MS),
           goal=FRAME_MS + 5, note=_why(w, SETTLE_MS))  # fmt: skip
    _breakdown(result, w, SETTLE_MS)
    spread(result, "processing, real outcome cache (memory hit)", c.processing(SETTLE_MS),
           goal=FRAME_MS + 5, note=_why(c, SETTLE_MS))  # fmt: skip
    _breakdown(result, c, SETTLE_MS)
    spread(result, "processing, in-process cache-hit stand-in", m.processing(SETTLE_MS),
           goal=FRAME_MS + 5, note=_why(m, SETTLE_MS))  # fmt: skip
    _breakdown(result, m, SETTLE_MS)
    result.samples = len(w.total) + len(c.total) + len(m.total)
    result.notes += _checks(runs, n)
    result.notes.append(
        "'instant engine in the worker child': EngineSpec(factory='bench.engines:instant') "
        "through the real WorkerClient, no cache (child process, pipe). 'real outcome "
        "cache': cache/cached_worker.with_cache in front of that worker, throws start once "
        "all 36 outcomes are cached. 'in-process stand-in': a fake worker that answers "
        "in the same poll(): a hit with no slide painted ahead and no file for the "
        "archive to link, so its picture is painted and journalled at the throw."
    )
    return result


def _journal_note(app: Any, name: str) -> str:
    """How the archive's journal wrote the run's pictures (storage/spares.py)."""
    if app.archive is None:
        return f"{name}: no archive"
    spares = app.archive.stats()["journal_spares"]
    return (
        f"{name}: journal entries written into a spare file made ahead (one write) "
        f"{spares['used']}, the long way (temp file, rename) {spares['missed']}"
    )


def _all_cached(app: Any, wait: bool) -> Callable[[], bool]:
    """A readiness check: every outcome is in the cache (when there is one to wait for)."""
    if not wait:
        return lambda: True
    variations = _background_variations(app)
    return lambda: all(app.worker.cache.contains(v) for v in variations)


def _checks(runs: dict[str, Run], n: int) -> list[str]:
    notes = []
    for name, run in runs.items():
        notes.append(
            f"{name}: {len(run.total)}/{n} throws shown, {run.wrong} with wrong faces, "
            f"{run.verified}/{len(run.total)} first frames verified by pixel read-back"
        )
    return notes


def bench_live_tiny(tmp: Path, n: int, model: Path) -> Result:
    """Benchmark 2: throw to screen with the tiny diffusers model rendering live on CPU."""
    from bench.plain import PlainPipeline

    result = Result(
        "2",
        "Throw to screen, live generation (tiny diffusers model, CPU)",
        "As benchmark 1, but the worker child runs DiffusersEngine on the tiny random "
        "model (64x64 img2img, 4 steps x strength 0.5). After each throw the bare "
        "diffusers call for the same arguments is timed in the bench process (same run, "
        "paired); added overhead = processing - bare call, per throw. Cache off.",
    )
    app, emulator = build(tmp / "live", SETTLE_MS, 64, model=model, cache=False)
    plain = PlainPipeline(model, app.show.resolve(app.show.artwork.paintings[0]))
    plain.warm_up()
    stages = StageProbe(app)
    run = throw_run(app, emulator, n, after_shown=plain.time, stages=stages)
    processing = run.processing(SETTLE_MS)
    overhead = [p - b for p, b in zip(processing, run.extra, strict=True)]
    result.add("settle window (configured, reported separately)", SETTLE_MS, "ms")
    spread(result, "processing", processing)
    result.add("bare pipeline call p50", pct(run.extra, 50), "ms")
    result.add("bare pipeline call p95", pct(run.extra, 95), "ms")
    spread(result, "added overhead (processing - bare call, paired)", overhead)
    _breakdown(result, run, SETTLE_MS)
    result.samples = len(run.total)
    result.notes += _checks({"live": run}, n)
    stages.report(result, run.extra)
    result.notes.append(_journal_note(app, "live"))
    return result


def bench_frames(tmp: Path, seconds: float, model: Path) -> Result:
    """Benchmark 3: frame pacing with the worker idle, then generating without pause; under
    SDL's dummy driver and on a real X server (Xvfb), side by side in one run."""
    from bench.frames import xvfb

    result = Result(
        "3",
        "Frame times while the worker generates",
        "Intervals between the real App's frames (each return of Kiosk.frame(); a still "
        "frame draws and flips nothing) with a 1920x1080 Kiosk window, 60 fps target, "
        "crossfade 1200 ms: a still wall (no throws, half the time), then a throw shown "
        "every second with the worker idle, then while the worker child renders the tiny "
        "model back to back (background requests, cache off); under SDL's dummy driver, "
        "then on Xvfb (x11 driver).",
    )
    _frames_run(result, tmp / "frames-dummy", seconds, model, "dummy")
    with xvfb() as display:
        if display is None:
            result.notes.append("Xvfb is not installed: the x11 rows are missing")
        else:
            _frames_run(result, tmp / "frames-xvfb", seconds, model, "Xvfb")
    return result


def _frames_run(result: Result, folder: Path, seconds: float, model: Path, driver: str) -> None:
    from bench.frames import frame_rows, redraw_delta, stamp_frames

    app, emulator = build(folder, SETTLE_MS, 64, model=model, transition_ms=1200, cache=False)
    app.start()
    try:
        with frame_loop():  # as the show's own loop runs (app/runtime.py)
            frames = stamp_frames(app.kiosk)
            wait_until(app.step, lambda: app.worker.ready, 60)
            for phase in ("still wall", "idle", "generating"):
                start, before = len(frames.ends), dict(app.kiosk.stats().get("redraws", {}))
                still = phase == "still wall"  # no throws: the picture stays, only cues may move
                _frames_phase(
                    app, seconds / 2 if still else seconds, phase == "generating", not still
                )
                intervals, work = frames.since(start)
                redraws = redraw_delta(before, app.kiosk.stats().get("redraws", {}))
                cpu = frames.cpu_since(start)
                frame_rows(result, f"{driver}, {phase}", intervals, work, redraws, cpu)
            driver_name = app.kiosk.driver
    finally:
        app.stop()
        emulator.close()
    result.notes.append(f"{driver} (SDL driver {driver_name}): worker renders {app.worker.renders}")


def _frames_phase(app: Any, seconds: float, busy: bool, throws: bool = True) -> None:
    from installation.core.events import RandomThrow

    t0 = time.perf_counter()
    next_throw = t0 + 1.0
    variations = _background_variations(app)
    while ms_since(t0) < seconds * 1000:
        if busy and app.worker.health()["queued"] < 2:
            for v in variations:
                app.worker.request(v, live=False)
        if throws and time.perf_counter() >= next_throw:
            app.inbox.put(RandomThrow("bench"))
            next_throw += 1.0
        app.step()


def _background_variations(app: Any) -> list[Any]:
    from installation.core.dice import Throw
    from installation.core.variations import derive_variation

    return [derive_variation(app.rule, Throw((a, b))) for a in range(1, 7) for b in range(1, 7)]
