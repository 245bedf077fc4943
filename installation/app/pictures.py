"""The show's own pictures (its paintings and standby poster), read off the frame thread.

The attract screen shows the first painting, the standby screen the poster, and screens
with content "painting" or "previous" the painting each variation came from. Reading a
large painting takes tens to hundreds of milliseconds, so after a live reload the
pictures are read by a thread (one load at a time; a newer reload replaces a waiting
one) and the presenter puts them up when they are ready (`take()` from its per-frame
`due()`); the wall keeps the old ones until then. At start-up `read()` reads them at
once, before the first frame. Unreadable files are faults, reported on the frame thread
(the loader checked them; a file removed since falls back to a placeholder or black).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from installation.show.schema import Show

log = logging.getLogger("installation.app")

KEEP_PAINTINGS = 8  # source paintings kept in memory for screens that show them


@dataclass
class Pictures:
    """One show's pictures, as read."""

    artwork: np.ndarray  # the first painting, or a placeholder
    poster: np.ndarray | None  # the standby poster; None: standby is black
    paintings: dict[int, np.ndarray] = field(default_factory=dict)  # index -> image
    faults: list[tuple[str, str]] = field(default_factory=list)  # (kind, message)


def read(show: Show) -> Pictures:
    """Read the pictures of `show` now (start-up, or the loader's thread)."""
    from installation.app.parts import artwork_for
    from installation.engines.images import load_rgb

    faults: list[tuple[str, str]] = []

    def fault(kind: str, message: str) -> None:
        faults.append((kind, message))

    artwork = artwork_for(show, fault)
    paintings: dict[int, np.ndarray] = {}
    names = show.artwork.paintings
    if names:
        paintings[0] = artwork
    if names and any(s.content != "variation" for s in show.screens):
        for index in range(1, min(len(names), KEEP_PAINTINGS)):
            try:
                paintings[index] = load_rgb(show.resolve(names[index]))
            except Exception as e:  # removed since the show loaded: that screen keeps its own
                fault("artwork", f"cannot read {names[index]}: {e}")
    poster = None
    name = show.display.standby_image
    if name is not None:  # checked by the loader; a file removed since means black
        try:
            poster = load_rgb(show.resolve(name))
        except Exception as e:
            fault("standby-image", f"cannot read {name}: {e}; standby is black")
    return Pictures(artwork, poster, paintings, faults)


class PictureLoader:
    """Reads a show's pictures on its own thread; the newest request wins."""

    def __init__(self, reader: Callable[[Show], Pictures] = read) -> None:
        self._read = reader
        self._cv = threading.Condition()
        self._wanted: Show | None = None
        self._done: Pictures | None = None
        self._running = False  # a thread is on its way (set and cleared under the lock)
        self.loads = 0

    def __repr__(self) -> str:
        return f"<PictureLoader loads={self.loads} waiting={self._wanted is not None}>"

    def request(self, show: Show) -> None:
        """Read `show`'s pictures soon; a request still waiting is replaced."""
        with self._cv:
            self._wanted = show
            if not self._running:
                self._running = True
                threading.Thread(target=self._run, name="pictures", daemon=True).start()

    def take(self) -> Pictures | None:
        """The newest pictures read since the last take (frame thread), or None."""
        with self._cv:
            done, self._done = self._done, None
            return done

    def wait_idle(self, timeout: float) -> bool:
        """Tests: block until nothing is waiting or being read."""
        with self._cv:
            return self._cv.wait_for(lambda: not self._running, timeout)

    def _run(self) -> None:
        while True:
            with self._cv:
                if self._wanted is None:
                    self._running = False  # a later request starts a new thread
                    self._cv.notify_all()
                    return
                show, self._wanted = self._wanted, None
            try:
                pictures: Pictures | None = self._read(show)
            except Exception:  # a bug here must not end the loads for the show's life
                log.exception("reading the show's pictures failed; the wall keeps the old ones")
                pictures = None
            with self._cv:
                self.loads += 1
                if pictures is not None:
                    self._done = pictures
