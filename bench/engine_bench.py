"""Benchmarks 4 and 5: our engine and worker against the plain diffusers pipeline."""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import Result, pct, write_painting
from bench.plain import PlainPipeline
from installation.core.dice import Throw
from installation.core.variations import RenderParams, Variation, VariationRule, derive_variation

PARAMS = RenderParams(strength=0.5, steps=4, guidance=1.0, width=64, height=64)
RULE = VariationRule(
    seed_mode="fixed",
    salt="bench",
    prompt="a painting of a die, {die1}, {die2}",
    variants=(tuple(f"face {i}" for i in range(1, 7)),) * 2,
    negative_prompt="",
    params=PARAMS,
    faces_per_die=6,
)


def outcomes() -> list[Variation]:
    """The 36 variations of two six-sided dice."""
    return [derive_variation(RULE, Throw((a, b))) for a in range(1, 7) for b in range(1, 7)]


def _spec(model: Path, painting: Path) -> Any:
    from installation.engines.engine import EngineSpec

    return EngineSpec(engine="diffusers", paintings=(painting,), model=model, device="cpu")


def bench_engine_overhead(tmp: Path, pairs: int, model: Path) -> Result:
    """Benchmark 4: DiffusersEngine.render vs the bare pipeline call, interleaved."""
    from installation.engines.diffusers_engine import DiffusersEngine

    result = Result(
        "4",
        "Engine overhead (DiffusersEngine.render / bare pipeline call)",
        "One process, tiny model, 64x64 img2img, 4 steps x strength 0.5. render() includes "
        "parameter checks, argument building, painting lookup, uint8 conversion; the bare "
        "call is the pipeline call alone. Interleaved ABBA so drift cancels.",
    )
    painting = write_painting(tmp / "engine-painting.png")
    engine = DiffusersEngine(_spec(model, painting))  # warms itself up
    plain = PlainPipeline(model, painting)
    plain.warm_up()
    vs = outcomes()
    ours, bare = [], []
    for i in range(pairs):
        v = vs[i % len(vs)]
        order = (0, 1) if i % 2 == 0 else (1, 0)
        for which in order:
            if which == 0:
                t0 = time.perf_counter()
                engine.render(v)
                ours.append((time.perf_counter() - t0) * 1000)
            else:
                bare.append(plain.time(v))
    ratios = [a / b for a, b in zip(ours, bare, strict=True)]
    result.add("DiffusersEngine.render p50", pct(ours, 50), "ms")
    result.add("bare pipeline call p50", pct(bare, 50), "ms")
    result.add("ratio of medians", pct(ours, 50) / pct(bare, 50), "x", goal=1.05)
    result.add("per-pair ratio p50", pct(ratios, 50), "x")
    result.add("per-pair ratio p95", pct(ratios, 95), "x")
    same = sum(np.array_equal(engine.render(v), plain.image(v)) for v in vs[:3])
    result.notes.append(f"pixels identical to the bare call: {same}/3 variations checked")
    result.samples = len(ours) + len(bare)
    return result


BLOCK = 6  # outcomes per timed block: a block lasts ~1 s, short against the CPU's drift


def bench_cache_fill(tmp: Path, rounds: int, model: Path, count: int = 36) -> Result:
    """Benchmark 5: 36 background renders through WorkerClient vs 36 sequential bare calls."""
    result = Result(
        "5",
        "Cache fill: every outcome of two dice (36)",
        "Wall time for 36 images. Worker path: background requests through the real "
        "WorkerClient (child process, warm, engine loaded), taken by a loop that runs as the "
        "app's frame loop does (60 Hz, woken early by the worker's results), and also by one "
        f"polling every 1 ms; plain: sequential bare calls in this process. Timed in blocks "
        f"of {BLOCK} outcomes, the three kinds alternated block by block (ABC CBA ...) so the "
        "CPU's drift over seconds cancels; a round is the sum of its blocks (each worker "
        "block pays its own first hand-off and last result). `installation prerender` and "
        "`installation sheet --no-cache` run in this process on a show with the same model "
        "and parameters (each round a fresh show folder: empty cache), timed whole: engine "
        "build + warm-up, 36 renders, PNG writes (prerender) or the sheet (sheet).",
    )
    import threading

    painting = write_painting(tmp / "fill-painting.png")
    plain = PlainPipeline(model, painting)
    plain.warm_up()
    wake = threading.Event()
    worker = _worker(model, painting, wake)
    vs = outcomes()[:count]
    blocks = [vs[i : i + BLOCK] for i in range(0, len(vs), BLOCK)]
    kinds = ("frame", "plain", "tight")
    times: dict[str, list[float]] = {k: [] for k in (*kinds, "pre", "sheet")}
    idle: list[float] = []  # the child's wait between two calls of one block, ms
    try:
        for i in range(rounds):
            spent = dict.fromkeys(kinds, 0.0)
            for j, block in enumerate(blocks):
                for kind in kinds if (i * len(blocks) + j) % 2 == 0 else kinds[::-1]:
                    if kind == "plain":
                        spent[kind] += sum(plain.time(v) for v in block) / 1000
                        continue
                    seconds, gaps = _fill(worker, block, 1 / 60 if kind == "frame" else 0.001,
                                          wake if kind == "frame" else None)  # fmt: skip
                    spent[kind] += seconds
                    idle += gaps
            for kind in kinds:
                times[kind].append(spent[kind])
            if count == len(outcomes()):  # the commands always do every outcome
                times["pre"].append(_command("prerender", tmp / f"prerender-{i}", model))
                times["sheet"].append(_command("sheet", tmp / f"sheet-{i}", model))
    finally:
        worker.stop()
    total = {k: sum(v) for k, v in times.items() if v}  # no commands below 36 outcomes
    per_round = {k: v / rounds for k, v in total.items()}
    n = len(vs) * rounds
    result.add(f"plain: {len(vs)} sequential calls (mean of {rounds} rounds)",
               per_round["plain"], "s")  # fmt: skip
    result.add("worker, frame loop at 60 Hz woken by results (mean round)", per_round["frame"], "s")
    why = {k: f"{(total[k] - total['plain']) / n * 1000:+.1f} ms per image over the bare call"
           for k in ("frame", "tight")}  # fmt: skip
    result.add("ratio worker@60Hz / plain", total["frame"] / total["plain"], "x", goal=1.0,
               note=why["frame"])  # fmt: skip
    result.add("worker polled every 1 ms (mean round)", per_round["tight"], "s")
    result.add("ratio worker@1ms / plain", total["tight"] / total["plain"], "x", goal=1.0,
               note=why["tight"])  # fmt: skip
    result.add("child idle between two background calls p50", pct(idle, 50), "ms")
    result.add("child idle between two background calls max", max(idle, default=0.0), "ms")
    if times["pre"]:
        result.add("installation prerender, whole command (mean round)", per_round["pre"], "s")
        result.add("ratio prerender / plain", total["pre"] / total["plain"], "x")
        result.add("installation sheet --no-cache, whole command (mean round)",
                   per_round["sheet"], "s")  # fmt: skip
        result.add("ratio sheet / plain", total["sheet"] / total["plain"], "x")
    ratios = [f / p for f, p in zip(times["frame"], times["plain"], strict=True)]
    result.notes.append(
        "ratio worker@60Hz / plain round by round: " + ", ".join(f"{r:.3f}" for r in ratios)
    )
    result.notes.append(
        "the worker keeps two background jobs in its child (worker/client.py DEPTH) and the "
        "child renders a live job before a queued one; the engine keeps the prompt's text "
        "embeddings, the painting's VAE encoding and the pipeline's execution device "
        "(engines/percall.py), which a bare call recomputes each time; batching several "
        "images in one call was checked and is not used: a batch of 2 differs from batch 1 "
        "by up to one level in 0.008% of the uint8 values (tiny model, 1 and 2 threads)"
    )
    result.samples = sum(len(v) for v in times.values())
    return result


def _command(name: str, folder: Path, model: Path) -> float:
    """Seconds for `installation prerender SHOW` or `installation sheet SHOW --no-cache`,
    called in this process (imports warm) on a fresh show with the bench's parameters."""
    import argparse
    import contextlib
    import io

    from bench.wall import write_show
    from installation.cache.commands import cmd_prerender
    from installation.curate.commands import run_sheet

    show = write_show(folder, port="", settle_ms=100, size=64, model=model)
    if name == "prerender":
        args = argparse.Namespace(show=str(show), limit=None, parents=False)
        run = cmd_prerender
    else:
        out = str(folder / "sheet.png")
        args = argparse.Namespace(
            show=str(show), output=out, sample=216, tile=64, no_cache=True, parents=False
        )
        run = run_sheet
    t0 = time.perf_counter()
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        code = run(args)
    seconds = time.perf_counter() - t0
    if code != 0:
        raise RuntimeError(f"installation {name} exited {code}")
    return seconds


def _worker(model: Path, painting: Path, wake: Any = None) -> Any:
    from installation.worker.client import WorkerClient

    worker = WorkerClient(_spec(model, painting), hang_timeout_s=60, wake=wake)
    worker.start()
    deadline = time.monotonic() + 120
    while not worker.ready:
        if time.monotonic() > deadline:
            raise RuntimeError(f"worker not ready after 120 s: {worker!r}")
        worker.poll()
        time.sleep(0.01)
    if worker.engine_name != "diffusers":
        raise RuntimeError(f"worker loaded {worker.engine_name!r}, expected diffusers")
    return worker


def _fill(
    worker: Any, vs: list[Variation], poll_every_s: float, wake: Any = None
) -> tuple[float, list[float]]:
    """Seconds until every variation came back, polling at the given period (and at once
    when `wake` is set, as the frame loop does), and the child's idle ms between calls."""
    t0 = time.perf_counter()
    for v in vs:
        worker.request(v, live=False)
    left = set(vs)
    traces = []
    deadline = t0 + 300
    next_poll = t0
    while left and time.perf_counter() < deadline:
        for out in worker.poll():
            if not hasattr(out, "image"):
                raise RuntimeError(f"render failed during the fill: {out!r}")
            left.discard(out.variation)
            traces.append(out.trace)
        next_poll += poll_every_s
        if wake is None:
            time.sleep(max(0.0, next_poll - time.perf_counter()))
        elif wake.wait(max(0.0, next_poll - time.perf_counter())):
            wake.clear()
            next_poll = time.perf_counter()  # a woken frame: the grid starts again from it
    if left:
        raise RuntimeError(f"{len(left)} of {len(vs)} renders never came back")
    seconds = time.perf_counter() - t0
    calls = sorted((t.call_began, t.call_ended) for t in traces if t is not None)
    return seconds, [(b[0] - a[1]) * 1000 for a, b in itertools.pairwise(calls)]
