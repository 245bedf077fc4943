"""What the running show needs of each edge: one Protocol per edge, checked by mypy.

The real classes and their in-memory fakes both satisfy these (see the `_checks`
function at the end: mypy fails the build if either drifts). App, the presenter and
the reloader are written against these types only, never against a concrete edge.
Every part has the same two verbs: `start()` and `stop()`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from installation.core.variations import Variation

if TYPE_CHECKING:
    from installation.display.label import LabelInfo
    from installation.show.schema import DisplaySection
    from installation.worker.replies import Failure, Result


class Stoppable(Protocol):
    """Anything the app stops (and may have been started by its owner)."""

    def stop(self) -> None: ...


class Part(Stoppable, Protocol):
    """Anything the app starts and stops."""

    def start(self) -> None: ...


class Screen(Part, Protocol):
    """The wall: the kiosk window (display/kiosk.py), several screens (display/wall.py) or
    FakeKiosk."""

    config: DisplaySection

    def set_artwork(self, image: np.ndarray) -> None: ...

    def set_poster(self, image: np.ndarray | None) -> None: ...

    def present(
        self, image: np.ndarray, label: LabelInfo | None, painting: np.ndarray | None = None
    ) -> None:
        """Put a variation up; `painting` is the source painting it came from (for screens
        showing the painting beside its variation)."""

    def prepare(self, image: np.ndarray, label: LabelInfo | None) -> None:
        """Paint ahead the slide of a picture that may go up soon (a cached outcome, a
        live picture waiting for the disk): its present() then finds it painted."""

    def settled(self) -> bool: ...

    def set_state(self, state: str) -> None: ...

    def set_overlay(self, text: str | None) -> None: ...

    def set_banner(self, text: str | None) -> None: ...

    def configure(self, config: DisplaySection, *, title: str, artist: str) -> None: ...

    def poll_input(self) -> list[object]: ...

    def frame(self) -> None: ...

    def stats(self) -> dict[str, object]: ...

    def screenshot(self, path: str | Path) -> Path: ...


class Worker(Part, Protocol):
    """Generation: the supervised child process (WorkerClient), the cache in front of it
    (CachedWorker) or FakeWorker. Never blocks the caller."""

    @property
    def engine_name(self) -> str: ...

    def request(self, variation: Variation, live: bool = True) -> None: ...

    def poll(self) -> list[Result | Failure]: ...

    def health(self) -> dict[str, Any]: ...

    def healthy(self) -> bool: ...

    def retry_engine(self) -> bool: ...


class CueOut(Part, Protocol):
    """OSC cues to sound, light and media servers (CueSender, FakeCueSender)."""

    def cue(
        self,
        name: str,
        *,
        faces: tuple[int, ...] = (),
        seed: int | None = None,
        number: int | None = None,
        at: float | None = None,
    ) -> None: ...

    def stats(self) -> dict[str, object]: ...


class InputEdge(Part, Protocol):
    """A thread that only puts events into the inbox (dice, OSC control, the cluster link,
    projectors, the show watcher) and reports its health for the status."""

    def status(self) -> Mapping[str, Any]: ...


class Journaled(Protocol):
    """What ArchiveOut.save promises: `settled` once the picture is on disk (or cannot be);
    `writing` from the moment its write to the disk has begun (and once settled)."""

    @property
    def settled(self) -> bool: ...

    @property
    def writing(self) -> bool: ...


class ArchiveOut(Part, Protocol):
    """Every shown picture with how it was made (storage/archive.py)."""

    def save(
        self,
        image: np.ndarray,
        variation: Variation,
        *,
        engine: str = "",
        describe: Mapping[str, object] | None = None,
        source: Path | None = None,
    ) -> Journaled: ...

    def stats(self) -> dict[str, Any]: ...


class Status(Protocol):
    """The status board (ops/status.py): thread-safe, never blocks."""

    def set_state(self, state: str) -> None: ...

    def set_engine(self, name: str) -> None: ...

    def frame(self, now: float | None = None) -> None: ...

    def record_latency(self, ms: float) -> None: ...

    def record_throw(self, faces: tuple[int, ...], source: str) -> None: ...

    def record_variation(self, **info: object) -> None: ...

    def set_section(self, name: str, info: Mapping[str, object]) -> None: ...

    def error(self, kind: str, message: str) -> None: ...

    def snapshot(self) -> dict[str, Any]: ...


class Notify(Protocol):
    """systemd's notify socket (ops/notify.py)."""

    def ready(self, status: str | None = None) -> bool: ...

    def status(self, text: str) -> bool: ...

    def extend_timeout(self, seconds: float) -> bool: ...

    def watchdog(self) -> bool: ...

    def stopping(self, status: str | None = None) -> bool: ...


def _checks() -> None:  # pragma: no cover - never called; mypy checks the assignments
    """Each real edge and its fake against its Protocol: drift fails `mypy installation`."""
    from installation.app.reloader import Reloader
    from installation.cache.cached_worker import CachedWorker
    from installation.dice.fake import FakeDice
    from installation.dice.serial import DiceLink
    from installation.display.fake import FakeKiosk
    from installation.display.kiosk import Kiosk
    from installation.display.wall import Wall
    from installation.ops.notify import Notifier
    from installation.ops.pjlink import ProjectorController
    from installation.ops.status import StatusBoard
    from installation.osc.cluster import ClusterLink
    from installation.osc.control import ControlServer
    from installation.osc.cues import CueSender
    from installation.osc.fake import FakeCueSender
    from installation.show.watch import ShowWatcher
    from installation.storage.archive import Archive
    from installation.storage.state import CountWriter
    from installation.web.console import WebConsole
    from installation.worker.client import WorkerClient
    from installation.worker.fake import FakeWorker

    screens: list[type[Screen]] = [Kiosk, Wall, FakeKiosk]
    workers: list[type[Worker]] = [WorkerClient, CachedWorker, FakeWorker]
    cues: list[type[CueOut]] = [CueSender, FakeCueSender]
    edges: list[type[InputEdge]] = [
        DiceLink,
        FakeDice,
        ControlServer,
        ClusterLink,
        ProjectorController,
        ShowWatcher,
        WebConsole,
    ]
    archives: list[type[ArchiveOut]] = [Archive]
    boards: list[type[Status]] = [StatusBoard]
    notifiers: list[type[Notify]] = [Notifier]
    parts: list[type[Stoppable]] = [Reloader, CountWriter]
    del screens, workers, cues, edges, archives, boards, notifiers, parts
