"""The housekeeper withholds systemd's keep-alives when the worker or an input edge stays
unhealthy past the grace period, and resumes them when it recovers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from installation.app.housekeeper import Housekeeper
from installation.ops.status import StatusBoard


class Pings:
    """The notifier's side that the feeder uses, recorded."""

    def __init__(self) -> None:
        self.pings = 0
        self.ready_sent: list[str | None] = []

    def watchdog(self) -> bool:
        self.pings += 1
        return True

    def ready(self, status: str | None = None) -> bool:
        self.ready_sent.append(status)
        return True

    def status(self, text: str) -> bool:
        return True

    def extend_timeout(self, seconds: float) -> bool:
        return True

    def stopping(self, status: str | None = None) -> bool:
        return True


class Worker:
    engine_name = "test"

    def healthy(self) -> bool:
        return True


def test_a_stuck_edge_stops_the_keep_alives_after_the_grace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "2000000")  # a ping every second
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    pings = Pings()
    keeper = Housekeeper(
        StatusBoard(show="t"), pings, tmp_path / "status.json", worker_grace_s=30, started_at=0.0
    )

    def tick(now: float, edges_healthy: bool) -> None:
        keeper.tick(
            now,
            state="attract",
            worker=Worker(),  # type: ignore[arg-type]
            show_name="t",
            sections=dict,
            edges_healthy=edges_healthy,
        )

    tick(1.0, True)
    assert pings.pings == 1
    for t in range(2, 30):  # stuck, but within the grace: still pinging
        tick(float(t), False)
    assert pings.pings == 29
    for t in range(30, 40):  # past the grace (last healthy at 1 s): systemd will restart us
        tick(float(t), False)
    assert pings.pings == 31  # 30 s and 31 s are still within the grace
    tick(41.0, True)  # recovered
    assert pings.pings == 32
    keeper.stop()


def test_stop_writes_the_stopped_state(tmp_path: Path) -> None:
    import json

    keeper = Housekeeper(
        StatusBoard(show="t"), None, tmp_path / "status.json", worker_grace_s=30, started_at=0.0
    )
    keeper.stop()
    status: dict[str, Any] = json.loads((tmp_path / "status.json").read_text())
    assert status["state"] == "stopped"
