"""kill -9 in a stream of throws: every variation the `shown` cues named is archived.

The real app (`installation run --headless --auto-throw`) on a fresh-seed show of
256x256 pictures (a PNG of that takes long enough that a kill right after a `shown`
cue lands before it is written), a real worker and OSC cues on loopback. Each round
waits for a few `shown` cues, kills the app with SIGKILL at once, and checks that its
worker did not outlive it; a last start archives what the journal still held and
stops cleanly. Then the archive must hold every number a `shown` cue named.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from installation.ops.soak.watch import (
    AppProcess,
    CueLog,
    free_udp_port,
    proc_state,
    worker_pids,
    write_show,
)
from installation.storage.archive import Archive

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="needs /proc")

ROUNDS = 3
SHOWN_PER_ROUND = 4
START_DEADLINE_S = 90.0  # a cold start on a busy machine (imports, the worker's spawn)


def test_every_shown_variation_is_archived_across_kill_9(tmp_path: Path) -> None:
    storage = tmp_path / "var"
    cues = CueLog()
    show = write_show(
        tmp_path / "show",
        link=tmp_path / "no-dice",  # throws come from --auto-throw
        storage=storage,
        control_port=free_udp_port(),
        cue_port=cues.port,
        size=256,
    )
    log = tmp_path / "app.log"
    apps: list[AppProcess] = []
    try:
        for _ in range(ROUNDS):
            app = AppProcess(show.parent, log, storage, args=("--auto-throw", "0.2"))
            apps.append(app)
            app.start()
            want = len(cues.shown()) + SHOWN_PER_ROUND
            assert cues.wait(lambda w=want: len(cues.shown()) >= w, START_DEADLINE_S), (
                f"only {len(cues.shown())} shown; log:\n{app.log_text()[-3000:]}"
            )
            workers = worker_pids(app.pid)
            os.kill(app.pid, signal.SIGKILL)  # right after a `shown` cue: mid-stream
            assert app.proc is not None
            app.proc.wait(10)
            for pid in workers:  # the worker notices its parent is gone and ends
                end = time.monotonic() + 10
                while proc_state(pid) not in ("", "Z") and time.monotonic() < end:
                    time.sleep(0.05)
                assert proc_state(pid) in ("", "Z"), f"worker {pid} outlived a kill -9"
        last = AppProcess(show.parent, log, storage)  # no throws: it only catches up
        apps.append(last)
        last.start()
        archive = Archive(storage / "archive", show_name="soak", max_files=10**6, max_mb=10**6)
        shown = set(cues.shown())
        end = time.monotonic() + START_DEADLINE_S
        while time.monotonic() < end and not (
            last.status() is not None and shown <= {e.number for e in archive.list()}
        ):  # up (its status file is written) and caught up
            time.sleep(0.2)
        assert last.stop() == 0
    finally:
        for app in apps:
            app.stop()
        cues.close()
    archived = {e.number for e in archive.list()}
    assert len(shown) >= ROUNDS * SHOWN_PER_ROUND
    assert sorted(shown - archived) == [], (
        f"shown but not archived; log:\n{log.read_text()[-3000:]}"
    )
    assert not list((storage / "archive" / ".journal").glob("*.shown"))
