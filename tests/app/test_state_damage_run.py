"""A damaged state.json under a running show: `installation run` starts, says it once in
the log and in the status, and goes on from the copy (issue 12, item 15)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from installation.app import App, RunOptions
from installation.app.build import fresh_counts
from installation.display.fake import FakeKiosk
from installation.ops.status import StatusBoard
from installation.show.load import load_show
from installation.storage.state import StateStore
from installation.worker.fake import FakeWorker
from tests import shows

ENV = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}


def fresh_show(folder: Path) -> Path:
    """No [osc] table: the kiosk listens where a show without one does."""
    tables = {"show": {"name": "counted"}, "osc": None}
    return shows.write_show(folder, **tables, variations={"seed_mode": "fresh"})


def damaged_state(show: Path) -> Path:
    state = show / "var" / "state.json"
    state.parent.mkdir(parents=True)
    store = StateStore(state)
    store.save_counts(41, {"1-1": 41})
    store.save_counts(42, {"1-1": 42})
    state.write_bytes(b'{"throw_count": ' + b"[" * 10_000 + b"]" * 10_000 + b"}")
    return state


def test_the_app_puts_the_damage_in_its_status(tmp_path: Path) -> None:
    folder = fresh_show(tmp_path / "show")
    damaged_state(folder)
    show = load_show(folder)
    counts = fresh_counts(show)
    assert counts is not None and counts.count == 41
    board = StatusBoard(show="counted")
    App(
        show,
        RunOptions(),
        kiosk=FakeKiosk(show.display),
        worker=FakeWorker(),
        status=board,
        counts=counts,
    )
    try:
        snap = board.snapshot()
        (error,) = snap["errors"]
        assert error["kind"] == "state" and "more than 4 deep" in error["message"]
        assert snap["faults"] == {"state": 1}
    finally:
        counts.writer.stop()


def test_run_with_a_state_file_nested_10000_deep_goes_on_from_the_copy(tmp_path: Path) -> None:
    show = fresh_show(tmp_path / "show")
    state = damaged_state(show)
    args = ["run", str(show), "--headless", "--exit-after", "2", "--auto-throw", "0.2"]
    run = subprocess.run(
        [sys.executable, "-m", "installation", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=ENV,
    )
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    errors = [line for line in run.stderr.splitlines() if str(state) in line]
    assert len(errors) == 1, run.stderr
    assert "more than 4 deep" in errors[0] and "state.json.prev (41)" in errors[0]
    assert len(list(state.parent.glob("state.json.damaged-*"))) == 1
    assert StateStore(state).load_counts().count > 41  # the throws went on counting from 41
    status = json.loads((state.parent / "status.json").read_text())
    assert status["last_error_by_kind"]["state"]["message"].startswith(f"state file {state}")
    shown = [line for line in run.stderr.splitlines() if "variation 42 " in line]
    assert shown, run.stderr
