"""Several screens from one process: a Wall of windows that change on the same frame.

A show with `[[screens]]` tables gets a Wall instead of the single Kiosk. Each screen is
a ScreenWindow: a Kiosk (states, slides painted off the main thread, crossfades, label)
drawing into its own pygame-ce `pygame.Window` - fullscreen on its display, or placed at
its `window` rectangle with --window. Each shows one content:

- variation: the newest variation, with its label;
- painting: the source painting the newest variation came from (title · artist);
- previous: the variation shown before the newest (a diptych of then and now).

All windows take up a new picture on the same frame: the Wall waits until every window
has painted its slide, then starts every crossfade at one clock reading, so the app's
`shown` cue (timed to the present) matches every screen. One pacer (pacing.py) for all.

Displays: SDL numbers the connected displays 0, 1, ...; a fullscreen screen opens
centred on its display, at that display's desktop size. Under kmsdrm (no desktop) SDL
2.0.16 and later open one window per connected display (SDL pull request #4230); a
window cannot be moved to another display afterwards there, so it is created on its
display. A screen whose display is missing is an error naming the screen.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pygame

from installation.display.kiosk import Kiosk
from installation.display.label import LabelInfo
from installation.display.layers import REDRAWS
from installation.display.pacing import FramePacer
from installation.display.transitions import FrameTimes, to_rgb
from installation.display.window import NO_DISPLAY_ADVICE, init_pygame, quit_pygame
from installation.display.window_rects import rect_updater
from installation.errors import DisplayError
from installation.show.schema import DisplaySection
from installation.show.schema_screens import ScreenEntry
from installation.storage.atomic import write_atomic

log = logging.getLogger(__name__)

STATS_WINDOW = 600
_CENTRED_ON = 0x2FFF0000  # SDL_WINDOWPOS_CENTERED_DISPLAY(n) is this | n


def screen_config(
    display: DisplaySection, entry: ScreenEntry, index: int, folder: Path | None = None
) -> DisplaySection:
    """[display] with this screen's overrides, display and window size (label_font made
    absolute against the show folder)."""
    update = entry.overrides()
    rect = entry.window_rect(index, (display.window_size[0], display.window_size[1]))
    update.update(display=entry.display, window_size=(rect[2], rect[3]))
    font = update.get("label_font", display.label_font)
    if font is not None and folder is not None and not Path(font).is_absolute():
        update["label_font"] = folder / font
    return display.model_copy(update=update)


def describe(index: int, entry: ScreenEntry) -> str:
    return f"screens[{index}] ({entry.content}, display {entry.display})"


class ScreenWindow(Kiosk):
    """One screen of a Wall: a Kiosk drawing into its own pygame.Window (opened by the Wall,
    which also polls input and ticks the clock for all)."""

    CLOSE_EVENTS = (pygame.QUIT, pygame.WINDOWCLOSE)

    def __init__(
        self,
        config: DisplaySection,
        entry: ScreenEntry,
        index: int,
        *,
        desktop: tuple[int, int] | None,
        title: str = "",
        artist: str = "",
        dice: int = 2,
        faces: int = 6,
        clock: Callable[[], float] = time.monotonic,
        wake: threading.Event | None = None,
    ) -> None:
        super().__init__(
            config, title=title, artist=artist, dice=dice, faces=faces, clock=clock, wake=wake
        )
        self.entry, self.index = entry, index
        self.content = entry.content
        self.desktop = desktop  # fullscreen: the size of its display
        self.window: pygame.Window | None = None
        self._update: Callable[[list[pygame.Rect]], None] = lambda rects: None

    def __repr__(self) -> str:
        return f"<ScreenWindow {describe(self.index, self.entry)} {self.size} {self.state}>"

    def _open_surface(self) -> tuple[pygame.Surface, str, bool]:
        name = f"{self.title or 'installation'} - {self.content}"
        c = self.config
        try:
            if c.fullscreen:
                where = _CENTRED_ON | c.display
                assert self.desktop is not None
                self.window = pygame.Window(
                    name, self.desktop, (where, where), fullscreen_desktop=True
                )
            else:
                x, y, w, h = self.entry.window_rect(self.index, self.size)
                self.window = pygame.Window(name, (w, h), (x, y), borderless=True)
            surface = self.window.get_surface()
            self._update = rect_updater(self.window)
        except pygame.error as e:
            raise DisplayError(f"{describe(self.index, self.entry)}: no window ({e})") from e
        return surface, pygame.display.get_driver(), False

    def flip(self) -> None:
        """The whole window, or only the rectangles the cues changed (window_rects.py)."""
        assert self.window is not None
        self.composer.flip(self.window.flip, self._update)

    def _release(self) -> None:
        if self.window is not None:
            self.window.destroy()
            self.window = None

    def frame(self) -> None:  # pragma: no cover - the Wall draws and flips its windows
        raise DisplayError("a screen of a Wall is drawn by Wall.frame()")


class Wall:
    """The Screen for several screens (see module docstring); Kiosk's API, for all of them."""

    def __init__(
        self,
        config: DisplaySection,
        screens: list[ScreenEntry],
        *,
        folder: Path | None = None,
        title: str = "",
        artist: str = "",
        dice: int = 2,
        faces: int = 6,
        clock: Callable[[], float] = time.monotonic,
        displays: Callable[[], list[tuple[int, int]]] | None = None,
        wake: threading.Event | None = None,
    ) -> None:
        if not screens:
            raise DisplayError("a Wall needs at least one [[screens]] table")
        self.config = config
        self.entries = list(screens)
        self.folder = folder
        self.title, self.artist, self.dice, self.faces = title, artist, dice, faces
        self._clock = clock
        self._displays = displays or pygame.display.get_desktop_sizes  # tests: a fake list
        self.windows: list[ScreenWindow] = []
        self.pacer = FramePacer(wake)  # one wait for all windows; their slides wake it too
        self._artwork: np.ndarray | None = None
        self._previous: tuple[np.ndarray, LabelInfo | None] | None = None
        self._newest: tuple[np.ndarray, LabelInfo | None] | None = None
        self.state = "attract"
        self.driver = ""
        self.times = FrameTimes(STATS_WINDOW)
        self.presents = 0

    def __repr__(self) -> str:
        return f"<Wall screens={len(self.entries)} {self.state} frames={self.times.frames}>"

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> None:
        self.open()

    def stop(self) -> None:
        self.close()

    def open(self) -> None:
        """Initialise SDL, check every screen's display, open a window per screen."""
        self.driver = init_pygame()
        try:
            desktops = self._check_displays()
            for i, entry in enumerate(self.entries):
                window = ScreenWindow(
                    screen_config(self.config, entry, i, self.folder),
                    entry,
                    i,
                    desktop=desktops[entry.display] if self.config.fullscreen else None,
                    title=self.title,
                    artist=self.artist,
                    dice=self.dice,
                    faces=self.faces,
                    clock=self._clock,
                    wake=self.pacer.wake,
                )
                window.open()
                self.windows.append(window)
        except BaseException:
            self.close()
            quit_pygame()
            raise
        pygame.mouse.set_visible(not self.config.fullscreen)
        pygame.display.set_allow_screensaver(False)
        for w in self.windows:
            w.set_state(self.state)
            if self._artwork is not None:
                w.set_artwork(self._artwork)
        sizes = ", ".join(f"{w.content} {w.size[0]}x{w.size[1]}" for w in self.windows)
        log.info("wall open: %s driver=%s", sizes, self.driver)

    def _check_displays(self) -> list[tuple[int, int]]:
        """The desktop sizes; a screen whose display is missing is an error naming it."""
        desktops = list(self._displays())
        if not self.config.fullscreen:
            return desktops  # --window: every screen is a window on the desktop
        for i, entry in enumerate(self.entries):
            if entry.display >= len(desktops):
                raise DisplayError(
                    f"{describe(i, entry)}: display {entry.display} is not connected; "
                    f"{len(desktops)} display(s) found (0..{len(desktops) - 1}). Connect it, "
                    f"set this screen's display to one of those, or run with --window "
                    f"({NO_DISPLAY_ADVICE})"
                )
        return desktops

    def close(self) -> None:
        """Close every window (the newest first), then SDL. Safe to call twice."""
        if not self.windows:
            return
        for w in reversed(self.windows):
            w.close()
        self.windows = []
        quit_pygame()

    @property
    def size(self) -> tuple[int, int]:
        return self.windows[0].size if self.windows else tuple(self.config.window_size)  # type: ignore[return-value]

    # -- pictures -------------------------------------------------------------------------
    def set_artwork(self, image: np.ndarray) -> None:
        self._artwork = to_rgb(image)
        for w in self.windows:
            w.set_artwork(self._artwork)

    def set_poster(self, image: np.ndarray | None) -> None:
        for w in self.windows:
            w.set_poster(image)

    def present(
        self, image: np.ndarray, label: LabelInfo | None, painting: np.ndarray | None = None
    ) -> None:
        """Every screen its content for this variation; they change on the same frame."""
        if not self.windows:
            raise DisplayError("the wall is not open: call open() first")
        rgb = to_rgb(image)
        if np.may_share_memory(rgb, image):
            rgb = rgb.copy()
        if self._newest is not None:
            self._previous = self._newest
        self._newest = (rgb, label)
        source = to_rgb(painting) if painting is not None else self._artwork
        credit = LabelInfo(faces=(), text="")  # the painting's screen: title · artist only
        for w in self.windows:
            if w.content == "painting" and source is not None:
                # prepared first: every present of it gets that one slide (no fade into itself)
                w.prepare(painting if painting is not None else source, credit)
                w.present(source, credit)
            elif w.content == "previous":
                before = self._previous or ((source, credit) if source is not None else None)
                w.present(*(before or (rgb, label)))
                w.prepare(rgb, label)  # what it shows after the next throw
            else:
                w.present(rgb, label)
        self.presents += 1

    def prepare(self, image: np.ndarray, label: LabelInfo | None) -> None:
        """Paint ahead, in every variation screen, the slide of a picture that may come next
        (a cached outcome; app/prepaint.py). The painting and previous screens prepare
        theirs as each picture goes up. A screen whose slide is ready still waits, as
        always, until every screen has its own: they change on the same frame."""
        for w in self.windows:
            if w.content == "variation":
                w.prepare(image, label)

    def settled(self) -> bool:
        return all(w.settled() for w in self.windows)

    def wait_ready(self, timeout: float = 10.0) -> bool:
        """Tests and tools: wait until every window painted what it was asked for, and put
        it up (on one frame, as frame() does)."""
        deadline = time.monotonic() + timeout
        for w in self.windows:
            w.wait_painted(max(0.0, deadline - time.monotonic()))
        self.collect()
        return not any(w.waiting for w in self.windows)

    def collect(self) -> None:
        """Take finished slides; presents only once no window is still painting its."""
        for w in self.windows:
            w.collect(hold=True)
        if not any(w.painting_present() for w in self.windows):
            for w in self.windows:
                w.collect()

    # -- state, text, settings ----------------------------------------------------------
    def set_state(self, state: str) -> None:
        for w in self.windows:
            w.set_state(state)
        self.state = state

    def set_overlay(self, text: str | None) -> None:
        for w in self.windows:
            w.set_overlay(text)

    def set_banner(self, text: str | None) -> None:
        for w in self.windows:
            w.set_banner(text)

    def configure(self, config: DisplaySection, *, title: str, artist: str) -> None:
        """Live reload: each screen gets [display] with its own overrides."""
        self.config, self.title, self.artist = config, title, artist
        for w in self.windows:
            w.configure(
                screen_config(config, w.entry, w.index, self.folder), title=title, artist=artist
            )

    # -- input and frames -----------------------------------------------------------------
    def poll_input(self) -> list[object]:
        """Events are shared by every window: the first screen reads them (and shows the
        rehearsal note)."""
        if not self.windows:
            return []
        events = self.windows[0].poll_input()
        if self.windows[0].composer.invalid:  # a window exposed: draw every one whole
            for w in self.windows:
                w.composer.invalidate()
        return events

    def frame(self) -> None:
        """Draw every window, flip them together, one pacer wait (see display/pacing.py)."""
        if not self.windows:
            raise DisplayError("the wall is not open: call open() first")
        now = self._clock()
        self.times.tick(now)
        try:
            self.collect()
            for w in self.windows:
                w.draw(now)
            for w in self.windows:
                w.flip()
        except pygame.error as e:
            raise DisplayError(f"drawing a frame failed: {e}") from e
        self.pacer.wait(self.config.fps, vsync=False)

    def stats(self) -> dict[str, object]:
        first = self.windows[0].stats() if self.windows else {}
        return {
            **self.times.summary(),
            "state": self.state,
            "size": list(self.size),
            "driver": self.driver,
            "vsync": False,
            "fading": any(w.picture.old is not None for w in self.windows),
            "ignored_keys": first.get("ignored_keys", 0),
            "overlay": first.get("overlay", False),
            "banner": first.get("banner"),
            "woken": self.pacer.woken,
            "late": self.pacer.late,
            "prepared_used": sum(w.desk.prepared.used for w in self.windows),
            "redraws": {k: sum(w.composer.counts[k] for w in self.windows) for k in REDRAWS},
            "screens": [
                {"content": w.content, "display": w.entry.display, "size": list(w.size)}
                for w in self.windows
            ],
        }

    # -- reading back -------------------------------------------------------------------
    def read_pixels(self) -> list[np.ndarray]:
        """Each window's pixels (HxWx3 RGB), in [[screens]] order."""
        return [w.read_pixels() for w in self.windows]

    def screenshot(self, path: str | Path) -> Path:
        """Every screen side by side in one PNG, in [[screens]] order (black below shorter
        ones)."""
        shots = self.read_pixels()
        height = max(s.shape[0] for s in shots)
        row = np.zeros((height, sum(s.shape[1] for s in shots), 3), np.uint8)
        x = 0
        for s in shots:
            row[: s.shape[0], x : x + s.shape[1]] = s
            x += s.shape[1]
        surface = pygame.image.frombuffer(row.tobytes(), (row.shape[1], height), "RGB")
        png = io.BytesIO()
        pygame.image.save(surface, png, "png")
        target = Path(path)
        write_atomic(target, png.getvalue())
        return target
