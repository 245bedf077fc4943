"""`python -m bench.memory`: memory and time of large outcome spaces, each under a real cap.

Each case is a real `python -m installation ...` process in its own cgroup memory group
(bench/memcap.py), fallback engine, SDL's dummy driver. `run` cases go until the first
frame (the status file counts frames) and then exit by themselves (`--exit-after 8`,
`--auto-throw 1`); `prerender --limit 1`, `sheet --sample 4` and `validate` run to the
end. Peak is the group's peak (resident memory plus the page cache the run filled);
RSS is the largest sum of VmRSS over the group's processes seen every 20 ms.

Not part of `python -m bench`: it needs root and a cgroup v1 memory controller.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from bench.memcap import Measured, available, run_capped

MB = 2**20


def write_show(
    folder: Path, dice: int, faces: int, *, seed_mode: str = "fixed", memory_mb: int = 16
) -> Path:
    """A small show with `dice` x d`faces`: 64x64 renders, no OSC, no console."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "show.toml").write_text(
        f"""
[show]
name = "big-{dice}d{faces}"
[dice]
count = {dice}
faces = {faces}
[variations]
seed_mode = "{seed_mode}"
prompt = "a die on a table"
width = 64
height = 64
steps = 2
[display]
fullscreen = false
window_size = [160, 120]
transition_ms = 0
[osc]
listen = ""
[cache]
memory_mb = {memory_mb}
disk_mb = 64
""",
        "utf-8",
    )
    return folder


def frames(show: Path) -> int:
    """Frames the kiosk counted so far (0 before its first status file)."""
    try:
        return int(json.loads((show / "var" / "status.json").read_text("utf-8")).get("frames", 0))
    except (OSError, ValueError, AttributeError):
        return 0


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "installation", *args]


def env() -> dict[str, str]:
    return {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}


def run_show(show: Path, limit: int, timeout_s: float = 60.0) -> Measured:
    shots = show / "shots"
    argv = command(
        "run",
        str(show),
        "--headless",
        "--exit-after",
        "8",
        "--auto-throw",
        "1",
        "--screenshot-dir",
        str(shots),
    )
    return run_capped(argv, limit, timeout_s, env=env(), ready=lambda: frames(show) > 0)


def cases(tmp: Path, limit: int) -> list[tuple[str, Measured]]:
    out: list[tuple[str, Measured]] = []
    for dice, faces in ((8, 6), (5, 20), (6, 20), (8, 20), (8, 100)):
        show = write_show(tmp / f"run-{dice}d{faces}", dice, faces)
        out.append((f"run {dice}xd{faces} to first frame", run_show(show, limit)))
    fresh = write_show(tmp / "run-8d100-fresh", 8, 100, seed_mode="fresh")
    out.append(("run 8xd100 fresh seeds", run_show(fresh, limit)))
    show = write_show(tmp / "pre-6d20", 6, 20)
    argv = command("prerender", str(show), "--limit", "1")
    out.append(("prerender --limit 1, 6xd20", run_capped(argv, limit, 120, env=env())))
    argv = command("sheet", str(show), "-o", str(tmp / "sheet.png"), "--sample", "4")
    out.append(("sheet --sample 4, 6xd20", run_capped(argv, limit, 120, env=env())))
    big = write_show(tmp / "validate-8d100", 8, 100)
    out.append(("validate 8xd100", run_capped(command("validate", str(big)), limit, 60, env=env())))
    return out


def table(rows: list[tuple[str, Measured]], limit: int) -> str:
    lines = [
        f"| case (cap {limit // MB} MB) | exit | first frame | wall time "
        "| peak (cgroup) | peak RSS |",
        "|---|---|---|---|---|---|",
    ]
    for name, m in rows:
        code = "timeout" if m.returncode is None else str(m.returncode)
        code = "killed (OOM)" if m.oom_killed else code
        first = f"{m.first_seen_s:.1f} s" if m.first_seen_s is not None else "-"
        lines.append(
            f"| {name} | {code} | {first} | {m.seconds:.1f} s | {m.peak_bytes / MB:.0f} MB "
            f"| {m.peak_rss_bytes / MB:.0f} MB |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cap-mb", type=int, default=600, help="memory cap per case (600)")
    args = parser.parse_args()
    if reason := available():
        print(f"bench.memory: {reason}", file=sys.stderr)
        return 2
    limit = args.cap_mb * MB
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as d:
        print(table(cases(Path(d), limit), limit))
    return 0


if __name__ == "__main__":
    sys.exit(main())
