"""A count write that fails with ENOSPC on a real full disk: the show goes on, says so,
and the count reaches the disk once there is space again."""

from __future__ import annotations

import json
import os
import time
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


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    why = inject.mount_tmpfs(disk, "1m")
    if why:
        pytest.skip(why)
    yield disk
    inject.unmount(disk)


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
    deadline = time.monotonic() + 20
    try:
        with inject.KeepFull(small_disk / "filler.bin"):
            app.inbox.put(ev.ThrowCommitted(Throw((2, 5))))
            while not app.presenter.presented:
                assert time.monotonic() < deadline, "nothing shown while the disk was full"
                app.step()
            while app.counters.get("state-write", 0) == 0:
                assert time.monotonic() < deadline, "the failed write was never reported"
                app.step()
        assert not (small_disk / "state.json").exists()
        state = small_disk / "state.json"
        while not state.exists():  # the writer retries once there is space
            assert time.monotonic() < deadline, "the count never reached the disk"
            app.step()
            time.sleep(0.05)
        assert json.loads(state.read_text())["throw_count"] == 1
    finally:
        app.stop()
