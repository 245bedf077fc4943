"""Once per frame: keep the status board, the status file and systemd informed.

READY=1 goes out only when the first frame is on screen and the worker's engine
has loaded; until then EXTEND_TIMEOUT_USEC keeps a long model load from being
taken for a failed start. Watchdog keep-alives stop when the worker has been
unhealthy for longer than its grace period, so systemd restarts the kiosk as a
last resort. Everything here is cheap and never blocks the frame.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from installation.app.contracts import Notify, Worker
from installation.ops.notify import watchdog_interval
from installation.ops.status import StatusBoard
from installation.ops.watchdog import WatchdogFeeder, WatchdogPolicy

SECTIONS_EVERY_S = 1.0
EXTEND_EVERY_S = 10.0
EXTEND_BY_S = 30.0


class Housekeeper:
    def __init__(
        self,
        board: StatusBoard,
        notifier: Notify | None,
        status_path: Path,
        *,
        worker_grace_s: float,
        started_at: float,
    ) -> None:
        self.board = board
        self.notifier = notifier
        self.status_path = status_path
        interval = watchdog_interval() if notifier is not None else None
        self.feeder = (
            WatchdogFeeder(WatchdogPolicy(interval, worker_grace_s=worker_grace_s), notifier)
            if interval and notifier is not None
            else None
        )
        self.ready_sent = False
        self.worker_ok_at = started_at  # the grace period covers the first model load
        self.edges_ok_at = started_at
        self._next_sections = started_at
        self._next_extend = started_at

    def tick(
        self,
        now: float,
        *,
        state: str,
        worker: Worker,
        show_name: str,
        sections: Callable[[], Mapping[str, Mapping[str, Any]]],
        edges_healthy: bool = True,
    ) -> None:
        """After each frame: `sections` is asked for the per-part health once a second.
        An input edge that stays unhealthy (remote control stuck and not restartable)
        stops the keep-alives like a hung worker does, after the same grace period."""
        board = self.board
        board.frame(now)
        board.set_state(state)
        engine = worker.engine_name
        board.set_engine(engine)
        if worker.healthy():
            self.worker_ok_at = now
        if edges_healthy:
            self.edges_ok_at = now
        self._notify_start(now, engine, show_name)
        if self.feeder is not None:
            ok_at = min(self.worker_ok_at, self.edges_ok_at)
            self.feeder.tick(now, last_frame_at=now, worker_ok_at=ok_at)
        if now >= self._next_sections:
            self._next_sections = now + SECTIONS_EVERY_S
            for name, info in sections().items():
                board.set_section(name, info)
            if self.notifier is not None and self.ready_sent:
                self.notifier.status(f"{state}; engine {engine}")
        board.maybe_write(self.status_path, now)

    def _notify_start(self, now: float, engine: str, show_name: str) -> None:
        if self.ready_sent or self.notifier is None:
            return
        if engine not in ("", "starting"):
            self.ready_sent = True
            self.notifier.ready(f"showing {show_name}")
        elif now >= self._next_extend:
            self._next_extend = now + EXTEND_EVERY_S
            self.notifier.extend_timeout(EXTEND_BY_S)

    def stop(self) -> None:
        """Flush the background writer, then write the final status now (not rate-limited),
        saying "stopped": `installation status` must not report a kiosk that has gone."""
        self.board.set_state("stopped")
        self.board.close()
        try:
            self.board.write(self.status_path)
        except OSError as e:
            self.board.error("status_write", f"final status not written: {e}")
