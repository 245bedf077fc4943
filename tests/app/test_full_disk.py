"""A count write that fails with ENOSPC on a real full disk: the show goes on, says so,
and the count reaches the disk once there is space again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from installation.app import App, RunOptions
from installation.app.build import fresh_counts
from installation.core import events as ev
from installation.core.dice import Throw
from installation.display.fake import FakeKiosk
from installation.ops.soak import inject
from installation.show.load import load_show
from installation.worker.fake import FakeWorker
from tests.disks import tmpfs
from tests.waiting import wait_until


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    with tmpfs(tmp_path / "disk") as disk:
        yield disk


def test_a_count_write_failing_with_enospc_keeps_the_show_on(
    tmp_path: Path, small_disk: Path
) -> None:
    folder = tmp_path / "show"
    folder.mkdir()
    (folder / "show.toml").write_text(
        f"""
[show]
name = "full"
[dice]
count = 2
faces = 6
[variations]
seed_mode = "fresh"
prompt = "flat"
width = 64
height = 64
[display]
fullscreen = false
transition_ms = 0
label = false
[osc]
listen = ""
[storage]
dir = "{small_disk}"
""",
        "utf-8",
    )
    show = load_show(folder)
    counts = fresh_counts(show)
    app = App(
        show,
        RunOptions(),
        kiosk=FakeKiosk(show.display),
        worker=FakeWorker(),
        counts=counts,
    )
    app.start()
    try:
        with inject.KeepFull(small_disk / "filler.bin"):
            app.inbox.put(ev.ThrowCommitted(Throw((2, 5))))
            wait_until(lambda: app.presenter.presented, 10, "a picture", step=app.step)
            wait_until(lambda: app.counters.get("state-write"), 10, "the fault", step=app.step)
        assert not (small_disk / "state.json").exists()
        state = small_disk / "state.json"
        # the writer retries once there is space
        wait_until(state.exists, 20, "the count on disk", step=app.step, interval=0.05)
        assert json.loads(state.read_text())["throw_count"] == 1
    finally:
        app.stop()
