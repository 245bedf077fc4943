"""FakeKiosk: the kiosk's contract in memory, for app tests without a screen.

It records what the app asked for (artwork, presents, states, overlays, frames)
and lets a test script the input (`push_input`). It validates like the real
kiosk: a bad image, an unknown state or a present before open() raise the same
errors. Its present() is synchronous; settled() and wait_ready() exist for the
same contract and are always True.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from installation.display.kiosk import RESTART_KEYS, STATES, KioskQuit, parse_colour, to_rgb
from installation.display.label import LabelInfo
from installation.errors import DisplayError
from installation.show.schema import DisplaySection
from installation.storage.atomic import write_atomic

log = logging.getLogger(__name__)
__all__ = ["FakeKiosk", "KioskQuit"]


class FakeKiosk:
    """Same API as Kiosk. `read_pixels()` returns the current picture unscaled (black when dark)."""

    def __init__(
        self,
        config: DisplaySection | None = None,
        *,
        title: str = "",
        artist: str = "",
        dice: int = 2,
        faces: int = 6,
        clock: Callable[[], float] = time.monotonic,
        open_error: DisplayError | None = None,
    ) -> None:
        self.config = config or DisplaySection()  # type: ignore[call-arg]
        self.title, self.artist, self.dice, self.faces = title, artist, dice, faces
        self._clock = clock
        self.open_error = open_error  # raised by open(): simulates "no display"
        self.opened = False
        self.closed = False
        self.state = "attract"
        self.states: list[str] = []
        self.artwork: np.ndarray | None = None
        self.poster: np.ndarray | None = None
        self.presents: list[tuple[np.ndarray, LabelInfo | None]] = []
        self.prepared: list[tuple[np.ndarray, LabelInfo | None]] = []  # painted ahead
        self.paintings: list[np.ndarray | None] = []  # the painting passed with each present
        self.overlay: str | None = None
        self.banner: str | None = None
        self.overlays: list[str | None] = []
        self.frames = 0
        self.frame_times: list[float] = []
        self.configs: list[DisplaySection] = []  # what configure() applied, in order
        self._inputs: list[object] = []

    def __repr__(self) -> str:
        return f"<FakeKiosk {self.state} presents={len(self.presents)} frames={self.frames}>"

    def start(self) -> None:
        """The app's verb for open(): every part starts and stops."""
        self.open()

    def stop(self) -> None:
        self.close()

    def open(self) -> None:
        if self.open_error is not None:
            raise self.open_error
        self.opened, self.closed = True, False

    def close(self) -> None:
        self.closed = True
        self.opened = False

    @property
    def size(self) -> tuple[int, int]:
        w, h = self.config.window_size
        return int(w), int(h)

    def _need_open(self) -> None:
        if not self.opened:
            raise DisplayError("the kiosk is not open: call open() first")

    def set_artwork(self, image: np.ndarray) -> None:
        self.artwork = to_rgb(image)

    def set_poster(self, image: np.ndarray | None) -> None:
        self.poster = None if image is None else to_rgb(image)

    def present(
        self, image: np.ndarray, label: LabelInfo | None, painting: np.ndarray | None = None
    ) -> None:
        self._need_open()
        self.presents.append((to_rgb(image), label))
        self.paintings.append(None if painting is None else to_rgb(painting))

    def prepare(self, image: np.ndarray, label: LabelInfo | None) -> None:
        """Records what would be painted ahead (the fake paints nothing)."""
        self.prepared.append((to_rgb(image), label))

    def settled(self) -> bool:
        """Always: the fake shows a present at once and draws no fades."""
        return True

    def wait_ready(self, timeout: float = 10.0) -> bool:
        return True

    def configure(self, config: DisplaySection, *, title: str, artist: str) -> None:
        """Like Kiosk.configure: records the applied config; restart-only keys keep their values."""
        parse_colour(config.background)
        changed = [k for k in RESTART_KEYS if getattr(config, k) != getattr(self.config, k)]
        if changed:
            log.warning("display %s change(s) apply after a restart", ", ".join(changed))
        self.config = config.model_copy(update={k: getattr(self.config, k) for k in changed})
        self.title, self.artist = title, artist
        self.configs.append(self.config)

    def set_state(self, state: str) -> None:
        if state not in STATES:
            raise ValueError(f"kiosk state {state!r} is not known; use one of {', '.join(STATES)}")
        self.state = state
        self.states.append(state)

    def set_banner(self, text: str | None) -> None:
        self.banner = text or None

    def set_overlay(self, text: str | None) -> None:
        self.overlay = text or None
        self.overlays.append(self.overlay)

    def push_input(self, event: object) -> None:
        """Script an input event (ThrowCommitted, RandomThrow, KioskQuit ...) for poll_input."""
        self._inputs.append(event)

    def poll_input(self) -> list[object]:
        out, self._inputs = self._inputs, []
        return out

    def frame(self) -> None:
        self._need_open()
        self.frames += 1
        self.frame_times.append(self._clock())

    def stats(self) -> dict[str, object]:
        return {
            "frames": self.frames,
            "fps": 0.0,
            "frame_ms_p50": 0.0,
            "frame_ms_p99": 0.0,
            "longest_gap_ms": 0.0,
            "state": self.state,
            "size": list(self.size),
            "driver": "fake",
            "vsync": False,
            "fading": False,
            "ignored_keys": 0,
            "overlay": self.overlay is not None,
            "banner": self.banner,
            "woken": 0,
            "late": 0,
            "prepared_used": 0,
            "redraws": {"full": self.frames, "part": 0, "still": 0},
        }

    @property
    def current(self) -> np.ndarray | None:
        """The picture the wall would show now (None: black)."""
        if self.state in ("standby", "blackout"):
            return None
        if self.state == "attract" or not self.presents:
            return self.artwork
        return self.presents[-1][0]

    def read_pixels(self) -> np.ndarray:
        self._need_open()
        picture = self.current
        if picture is None:
            w, h = self.size
            return np.zeros((h, w, 3), np.uint8)
        return picture.copy()

    def screenshot(self, path: str | Path) -> Path:
        from PIL import Image

        target = Path(path)
        png = io.BytesIO()
        Image.fromarray(self.read_pixels()).save(png, format="PNG")
        write_atomic(target, png.getvalue())
        return target
