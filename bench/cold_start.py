"""Benchmark 7: cold start to READY, against the bare import + load cost, in fresh processes.

Run as a module for the subprocesses: `python -m bench.cold_start app SHOW_FOLDER` starts
the real App and prints READY once a frame is shown with the worker's engine loaded;
`python -m bench.cold_start bare MODEL` imports torch + diffusers, loads the pipeline and
prints READY.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from bench.common import REPO, Result, headless, pct
from bench.wall import write_show

READY = "READY"
TIMEOUT_S = 300.0


def _app(show_folder: str) -> int:
    headless()
    from installation.app import RunOptions
    from installation.app.build import build_app
    from installation.show.load import load_show

    app = build_app(load_show(Path(show_folder)), RunOptions())
    app.start()
    try:
        frames = app.kiosk.times
        deadline = time.monotonic() + TIMEOUT_S
        while not (app.worker.ready and frames.frames > 0):
            if time.monotonic() > deadline:
                return 1
            app.step()
        ready_engine = app.worker.engine_name
        app.step()  # a frame with the engine loaded
        print(f"{READY} {ready_engine}", flush=True)
    finally:
        app.stop()
    return 0


def _bare(model: str) -> int:
    headless()
    import diffusers  # noqa: F401
    import torch  # noqa: F401
    from diffusers import AutoPipelineForImage2Image

    pipe = AutoPipelineForImage2Image.from_pretrained(model, local_files_only=True)
    pipe.set_progress_bar_config(disable=True)
    print(f"{READY} bare", flush=True)
    return 0


def time_to_ready(args: list[str]) -> tuple[float, str]:
    """Seconds from spawning `python -m bench.cold_start ARGS` to its READY line."""
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy",
           "HF_HUB_OFFLINE": "1", "PYGAME_HIDE_SUPPORT_PROMPT": "1"}  # fmt: skip
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.cold_start", *args],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            if line.startswith(READY):
                return time.perf_counter() - t0, line.split()[-1]
        raise RuntimeError(f"{args[0]} never printed READY (exit {proc.wait()})")
    finally:
        proc.stdout.close()
        proc.wait(timeout=60)


def bench_cold_start(tmp: Path, rounds: int, model: Path) -> Result:
    result = Result(
        "7",
        "Cold start to READY (tiny model)",
        "Fresh processes. App: spawn python, import, open the Kiosk (SDL dummy), spawn the "
        "worker, which imports torch + diffusers, loads the tiny model and warms up; READY "
        "= worker hello received and a frame shown. Bare: spawn python, import torch + "
        "diffusers, load the same pipeline. Rounds interleaved.",
    )
    show = write_show(tmp / "cold", port="", settle_ms=100, size=64, model=model)
    app_s, bare_s, engines = [], [], set()
    for _ in range(rounds):
        seconds, engine = time_to_ready(["app", str(show)])
        app_s.append(seconds)
        engines.add(engine)
        bare_s.append(time_to_ready(["bare", str(model)])[0])
    result.add("App to READY p50", pct(app_s, 50), "s")
    result.add("bare import + load p50", pct(bare_s, 50), "s")
    result.add("ratio App / bare", pct(app_s, 50) / pct(bare_s, 50), "x")
    result.notes.append(f"engine reported at READY: {', '.join(sorted(engines))}")
    result.samples = rounds * 2
    return result


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("app", "bare"):
        print("usage: python -m bench.cold_start app SHOW_FOLDER | bare MODEL", file=sys.stderr)
        return 2
    return _app(argv[1]) if argv[0] == "app" else _bare(argv[1])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
