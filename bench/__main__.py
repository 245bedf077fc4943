"""`python -m bench [--quick] [--only 1,4] [--no-write]`: run the benchmarks, rewrite the tables."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench.common import REPO, Result, headless, load_average, machine


def plan(tmp: Path, quick: bool) -> dict[str, Callable[[], Result]]:
    """Each benchmark as a thunk, with iteration counts for a full or a quick run."""
    from bench import (
        cold_start,
        engine_bench,
        io_bench,
        latency,
        screens_bench,
        upscale_bench,
        web_bench,
    )
    from bench.common import tiny_model

    model_cache: list[Path] = []

    def model() -> Path:
        if not model_cache:
            model_cache.append(tiny_model(tmp))
        return model_cache[0]

    q = quick
    return {
        "6": lambda: io_bench.bench_io(500 if q else 20000, 2 if q else 5, 20 if q else 1000),
        "1": lambda: latency.bench_cache_hit(tmp, 3 if q else 100),
        "2": lambda: latency.bench_live_tiny(tmp, 3 if q else 100, model()),
        "3": lambda: latency.bench_frames(tmp, 1.0 if q else 10.0, model()),
        "4": lambda: engine_bench.bench_engine_overhead(tmp, 4 if q else 60, model()),
        "5": lambda: engine_bench.bench_cache_fill(tmp, 1 if q else 3, model(), 6 if q else 36),
        "7": lambda: cold_start.bench_cold_start(tmp, 1 if q else 3, model()),
        "8": lambda: web_bench.bench_web_burst(tmp, 100 if q else 1000, 1.0 if q else 3.0),
        "9": lambda: screens_bench.bench_two_screens(tmp, 1.0 if q else 10.0, model()),
        "10": lambda: screens_bench.bench_upscale(3 if q else 30),
        "11": lambda: upscale_bench.bench_upscale_pass(tmp, 2 if q else 10, model()),
    }


def run(quick: bool, only: set[str] | None) -> tuple[list[Result], bool]:
    """Run the chosen benchmarks in order; a failing one is reported, the rest still run."""
    results, ok = [], True
    with tempfile.TemporaryDirectory(prefix="bench-") as d:
        for key, thunk in plan(Path(d), quick).items():
            if only and key not in only:
                continue
            print(f"benchmark {key} ...", flush=True)
            t0, load = time.perf_counter(), load_average()
            try:
                result = thunk()
            except Exception as e:
                ok = False
                traceback.print_exc()
                result = Result(key, "FAILED", f"{type(e).__name__}: {e}")
            result.seconds = time.perf_counter() - t0
            result.notes.append(f"load average before {load}, after {load_average()}")
            print(f"benchmark {key}: {result.title} ({result.seconds:.1f} s)", flush=True)
            results.append(result)
    return sorted(results, key=lambda r: int(r.key)), ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny iteration counts")
    parser.add_argument("--only", help="comma-separated benchmark numbers, e.g. 1,4")
    parser.add_argument("--no-write", action="store_true", help="do not touch BENCHMARKS.md")
    parser.add_argument("--out", type=Path, default=REPO / "BENCHMARKS.md")
    parser.add_argument("--json", type=Path, default=REPO / "bench" / "results.json")
    args = parser.parse_args(argv)
    only = set(args.only.split(",")) if args.only else None
    if only and not only <= {str(i) for i in range(1, 12)}:
        parser.error(f"--only takes numbers 1..11, got {args.only!r}")
    headless()
    # One torch thread in the worker child and in the bare calls alike: on a 2-core machine
    # the default (one per core) fights the display loop and other load, and the spread of
    # timings explodes (measured: per-call times of 0.15-2.2 s instead of 0.2 s).
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    info = machine()
    info["torch threads (OMP_NUM_THREADS)"] = os.environ["OMP_NUM_THREADS"]
    t0 = time.perf_counter()
    results, ok = run(args.quick, only)
    info["load average at end"] = load_average()
    info["whole run"] = f"{time.perf_counter() - t0:.0f} s"
    from bench.report import render, rewrite

    text = render(results, info, args.quick)
    print(text)
    if not args.no_write:
        rewrite(args.out, text)
        data = {"machine": info, "quick": args.quick, "results": [r.as_dict() for r in results]}
        args.json.write_text(json.dumps(data, indent=1), "utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
