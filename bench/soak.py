"""`python -m bench.soak --minutes 30`: the long soak. Not run by CI (tests/soak is the short one).

Runs the real app as a subprocess on a tiny show, drives throws through the dice
emulator and injects every fault in turn (serial unplug, silence and garbage,
worker SIGKILL and SIGSTOP, a broken show edit, an OSC flood, a full disk) until
the time is up. Prints progress, then the table for RELIABILITY.md; exit status 1
when any promise was broken (a lost throw, an exit, a stall, memory growth,
corrupt or temp files), with each problem listed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from bench.common import machine
from installation.ops.soak import Soak


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n")[0])
    p.add_argument("--minutes", type=float, default=30.0, help="how long to soak (default 30)")
    p.add_argument("--seed", type=int, default=0, help="faces and fault timing (default 0)")
    p.add_argument("--worker-timeout", type=float, default=2.0, help="engine.worker_timeout_s")
    p.add_argument("--dir", type=Path, help="work folder (default: a temp folder, removed)")
    p.add_argument("--json", type=Path, help="also write the report as JSON here")
    p.add_argument("--no-full-disk", action="store_true", help="skip the tmpfs full-disk fault")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    args = p.parse_args(argv)
    if not args.minutes > 0:
        p.error(f"--minutes must be above 0, got {args.minutes}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    root = args.dir or Path(tempfile.mkdtemp(prefix="installation-soak-"))
    root.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()

    def say(text: str) -> None:
        if not args.quiet:
            print(f"[{(time.monotonic() - t0) / 60:5.1f} min] {text}", flush=True)

    soak = Soak(
        root,
        worker_timeout_s=args.worker_timeout,
        seed=args.seed,
        full_disk=not args.no_full_disk,
        say=say,
    )
    say(f"soaking for {args.minutes:g} min in {root}")
    try:
        soak.start()
        if not soak.problems:  # an app that never became ready is the report
            soak.run(args.minutes * 60)
    except KeyboardInterrupt:
        say("interrupted: stopping and checking")
    finally:
        report = soak.close()
    print()
    for key, value in machine().items():
        print(f"- {key}: {value}")
    print()
    print(report.markdown())
    if args.json:
        args.json.write_text(json.dumps(asdict(report), indent=1, default=str), "utf-8")
    if report.problems:
        print(f"\n{len(report.problems)} problem(s):")
        for problem in report.problems:
            print(f"  - {problem}")
        print(f"app log: {root / 'app.log'}")
        return 1
    if args.dir is None:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
