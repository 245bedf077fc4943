"""Benchmark 7: cold start to READY, against the bare import + load cost, in fresh processes.

Run as a module for the subprocesses: `python -m bench.cold_start app SHOW_FOLDER` starts
the real App and prints READY once a frame is shown with the worker's engine loaded;
`python -m bench.cold_start bare MODEL` imports torch + diffusers, loads the pipeline and
prints READY. Both then print PEAK with the peak resident memory (kB) of the process and of
its children (the worker child, where the App loads the model).

Each runs with `accelerate` importable and hidden (a sitecustomize that makes its import
fail, as if it were not installed; the worker child inherits it): without it, diffusers
loads with low_cpu_mem_usage=False and warns on every load.
"""

from __future__ import annotations

import importlib.util
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from bench.common import REPO, Result, headless, pct
from bench.wall import write_show

READY = "READY"
PEAK = "PEAK"
TIMEOUT_S = 300.0
HIDE_ACCELERATE = 'import sys\nsys.modules["accelerate"] = None  # bench: as if not installed\n'


def _print_peak() -> None:
    """Peak RSS in kB (Linux ru_maxrss) of this process and of its reaped children."""
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    seen = importlib.util.find_spec("accelerate") is not None  # what the worker child sees too
    print(f"{PEAK} {me} {children} {int(seen)}", flush=True)


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
        app.stop()  # joins the worker child: its peak counts in RUSAGE_CHILDREN
    _print_peak()
    return 0


def _bare(model: str) -> int:
    headless()
    import diffusers  # noqa: F401
    import torch  # noqa: F401
    from diffusers import AutoPipelineForImage2Image

    pipe = AutoPipelineForImage2Image.from_pretrained(model, local_files_only=True)
    pipe.set_progress_bar_config(disable=True)
    print(f"{READY} bare", flush=True)
    _print_peak()
    return 0


def time_to_ready(args: list[str], hide: Path | None = None) -> tuple[float, str, int]:
    """Seconds from spawning `python -m bench.cold_start ARGS` to its READY line, what it
    said, and the peak RSS in kB of the process that loaded the model. `hide`: a folder
    with a sitecustomize put first on PYTHONPATH (the worker child inherits it)."""
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy",
           "HF_HUB_OFFLINE": "1", "PYGAME_HIDE_SUPPORT_PROMPT": "1"}  # fmt: skip
    if hide is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(hide), str(REPO), env.get("PYTHONPATH", "")])
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.cold_start", *args],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    try:
        seconds, said = 0.0, ""
        for line in proc.stdout:
            if line.startswith(READY):
                seconds, said = time.perf_counter() - t0, line.split()[-1]
            elif line.startswith(PEAK) and said:
                me, children, seen = (int(x) for x in line.split()[1:])
                if seen == (hide is not None):
                    raise RuntimeError(f"accelerate {'visible' if seen else 'hidden'}: {hide}")
                return seconds, said, children if args[0] == "app" else me
        raise RuntimeError(f"{args[0]} never printed READY and PEAK (exit {proc.wait()})")
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
        "diffusers, load the same pipeline. Each with `accelerate` installed and hidden "
        "(low_cpu_mem_usage=True vs False). Peak RAM: ru_maxrss of the process that loads "
        "the model (the App's worker child; the bare process). Rounds interleaved.",
    )
    show = write_show(tmp / "cold", port="", settle_ms=100, size=64, model=model)
    hide = tmp / "no-accelerate"
    hide.mkdir(exist_ok=True)
    (hide / "sitecustomize.py").write_text(HIDE_ACCELERATE, "utf-8")
    runs: dict[tuple[str, bool], list[tuple[float, str, int]]] = {}
    for _ in range(rounds):
        for kind, target in (("app", show), ("bare", model)):
            for hidden in (False, True):
                run = time_to_ready([kind, str(target)], hide if hidden else None)
                runs.setdefault((kind, hidden), []).append(run)
    engines = {r[1] for key in (("app", False), ("app", True)) for r in runs[key]}
    for (kind, hidden), rs in runs.items():
        how = ", accelerate hidden" if hidden else ""
        what = "App to READY" if kind == "app" else "bare import + load"
        result.add(f"{what}{how} p50", pct([r[0] for r in rs], 50), "s")
        who = "worker child" if kind == "app" else "bare process"
        result.add(f"  peak RAM of the {who}{how} (max)", max(r[2] for r in rs) / 1024, "MB")
    app_s, bare_s = runs[("app", False)], runs[("bare", False)]
    ratio = pct([r[0] for r in app_s], 50) / pct([r[0] for r in bare_s], 50)
    result.add("ratio App / bare (accelerate installed)", ratio, "x")
    result.notes.append(f"engine reported at READY: {', '.join(sorted(engines))}")
    result.samples = sum(len(rs) for rs in runs.values())
    return result


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("app", "bare"):
        print("usage: python -m bench.cold_start app SHOW_FOLDER | bare MODEL", file=sys.stderr)
        return 2
    return _app(argv[1]) if argv[0] == "app" else _bare(argv[1])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
