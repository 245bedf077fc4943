"""The running show with a model that is not there: the wall stays lit with the fallback,
the status says FAIL (worker section and errors), and a reload after the model disk
mounts brings the model in without a restart.

Real parts: the worker child (a test engine that loads once its model folder exists, the
model path taken from the show), the status board and its file, the show watcher and
reloader; the kiosk is the fake (no pixels are checked here).
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

from installation.app import App, RunOptions
from installation.app.build import faults_to
from installation.app.housekeeper import Housekeeper
from installation.app.inbox import Inbox
from installation.app.reloader import Reloader
from installation.core import events as ev
from installation.core.dice import Throw
from installation.display.fake import FakeKiosk
from installation.engine_spec import spec_from_show
from installation.ops.status import StatusBoard
from installation.show.load import load_show
from installation.show.schema import Show
from installation.show.watch import ShowWatcher
from installation.worker.client import WorkerClient
from tests import shows
from tests.worker import engines_for_tests as engines


def run_until(app: App, done: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"timed out; worker {app.worker.health()}"
        app.step()
        time.sleep(0.002)


def status_file(app: App) -> dict[str, Any]:
    path = app.show.storage_dir / "status.json"
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data


def test_a_missing_model_keeps_the_wall_lit_says_fail_and_a_reload_brings_it_in(
    tmp_path: Path,
) -> None:
    model = tmp_path / "models-disk" / "sd"
    folder = tmp_path / "show"
    tables = {"show": {"name": "late-model"}, "dice": None}
    shows.write_show(folder, **tables, variations={"engine": "auto", "model": model})
    show = load_show(folder)  # a missing model is no error: the show loads
    inbox = Inbox()

    def changed(result: Any) -> None:
        change = watcher.last_change if isinstance(result, Show) else None
        inbox.put(ev.ShowReloaded(result, change))

    watcher = ShowWatcher(show.folder, changed, initial=show)
    spec = dataclasses.replace(spec_from_show(show), factory=f"{engines.__name__}:needs_model")
    assert spec.model == model
    worker = WorkerClient(spec, hang_timeout_s=30, report=faults_to(inbox))  # retry: 60 s
    board = StatusBoard(show="late-model")
    app = App(
        show,
        RunOptions(),
        kiosk=FakeKiosk(show.display),
        worker=worker,
        inbox=inbox,
        status=board,
        housekeeper=Housekeeper(
            board, None, show.storage_dir / "status.json", worker_grace_s=90, started_at=0.0
        ),
        reloader=Reloader(watcher, inbox),
    )
    app.start()
    try:
        run_until(app, lambda: "engine" in app.counters)
        app.inbox.put(ev.ThrowCommitted(Throw((1, 2))))
        run_until(app, lambda: bool(app.presenter.presented))  # the wall is lit
        run_until(app, lambda: status_file(app).get("sections", {}).get("worker", {}).get("model"))
        status = status_file(app)
        section = status["sections"]["worker"]
        assert section["engine"] == "fallback" and section["degraded"] is True
        assert section["model"] == (
            f"FAIL: {model} not found: mount the model disk or fix the show's model paths"
        )
        (error,) = [e for e in status["errors"] if e["kind"] == "engine"]
        assert error["message"].startswith(f"FAIL: engine auto did not load: {model} not found")
        assert "tried again every 60 s and on reload" in error["message"]

        model.mkdir(parents=True)  # the model disk mounts; nobody waits a minute
        app.inbox.put(ev.ReloadShow("osc"))
        run_until(app, lambda: app.worker.engine_name == "test")
        health = app.worker.health()
        assert health["degraded"] is False and health["engine_retries"] == 1
        assert app.counters["engine"] == 1  # said once, not once per try
    finally:
        app.stop()
    assert not worker.health()["alive"]
