"""The kiosk: a fullscreen pygame-ce window that crossfades between pictures.

The app's main loop calls `poll_input()` and `frame()` every frame; nothing here
waits except the pacing (pacing.py) in `frame()`. Every picture is scaled once, when
it arrives, into a screen-sized "slide" (picture, letterbox and wall label baked
in) by a worker thread (slides.py), so present() returns at once; the next frame()
after the slide is ready starts the crossfade. A newer present() supersedes one
still being painted. A frame is one or two blits, an invitation or cue, the overlay
and a flip (layers.py keeps the crossfade and what is drawn over it). The kiosk knows
nothing of dice, engines or OSC. Tests that read pixels after a present call
`wait_ready()` first.

States: attract (the painting, or else the last variation, with the breathing
invitation), rolling (picture kept, three small dots breathe), presenting (the
variation and its label), standby (fades to black; errors still shown), blackout
(cut to black, nothing else). A present() in standby/blackout is kept for later.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pygame

from installation.core.events import KioskQuit
from installation.display import kiosk_io
from installation.display import label as wall
from installation.display.canvas import plain_slide
from installation.display.desk import SlideDesk
from installation.display.keys import KeyRules
from installation.display.label import LabelInfo
from installation.display.layers import Composer, CueLayer, PictureLayer
from installation.display.pacing import FramePacer
from installation.display.slides import SlideJob, SlideStyle, style_for
from installation.display.transitions import FrameTimes, to_rgb
from installation.display.turn import Turn, TurnedCanvas
from installation.display.window import open_window, parse_colour, quit_pygame
from installation.errors import BadImage, DisplayError
from installation.show.schema import DisplaySection

log = logging.getLogger(__name__)
__all__ = ["STATES", "BadImage", "Kiosk", "KioskQuit", "LabelInfo", "parse_colour", "to_rgb"]

STATES = ("attract", "rolling", "presenting", "standby", "blackout")
STATS_WINDOW = 600  # frame durations kept for fps and percentiles (10 s at 60 fps)
RESTART_KEYS = kiosk_io.RESTART_KEYS  # configure() cannot change these


class Kiosk:
    """The real display edge (pygame-ce). See module docstring; FakeKiosk has the same API."""

    CLOSE_EVENTS: tuple[int, ...] = (pygame.QUIT,)  # a window closed: the quit key's rules

    def __init__(
        self,
        config: DisplaySection,
        *,
        title: str = "",
        artist: str = "",
        dice: int = 2,
        faces: int = 6,
        clock: Callable[[], float] = time.monotonic,
        wake: threading.Event | None = None,
    ) -> None:
        self.config = config
        self.title, self.artist = title, artist
        self.dice, self.faces = dice, faces
        self._clock = clock
        self.background = parse_colour(config.background)
        self._screen: pygame.Surface | None = None
        self.pacer = FramePacer(wake)  # wake: news for the wall ends the frame's wait early
        self.state = "attract"
        self.driver = ""
        self.vsync = False
        self._artwork: np.ndarray | None = None
        self._poster: np.ndarray | None = None  # standby picture (closed hours); else black
        self._poster_slide: pygame.Surface | None = None
        self._artwork_slide: pygame.Surface | None = None
        self._last: pygame.Surface | None = None  # the last presented slide
        self._last_source: tuple[np.ndarray, LabelInfo | None] | None = None  # for restyles
        self.desk = SlideDesk()  # the painter thread and the slides asked of it
        self._state_seq = 0  # counts set_state calls: did the state change while painting?
        self.presents_placed = 0  # present slides painted and taken up (benches: first flip)
        self._black: pygame.Surface | None = None
        self.picture = PictureLayer()
        self.cues = CueLayer()
        self.composer = Composer(self.picture, self.cues)  # draws only what changed
        self._canvas: TurnedCanvas | None = None  # the cues draw upright through it
        self.keys = KeyRules(dice, faces)  # rehearsal keys and the quit key
        self.times = FrameTimes(STATS_WINDOW)

    def __repr__(self) -> str:
        size = "x".join(map(str, self.size)) if self._screen else "closed"
        return f"<Kiosk {size} {self.state} frames={self.times.frames} driver={self.driver or '-'}>"

    # -- lifecycle ----------------------------------------------------------------
    def start(self) -> None:
        """The app's verb for open(): every part starts and stops."""
        self.open()

    def stop(self) -> None:
        self.close()

    def open(self) -> None:
        """Open the fullscreen kiosk (or a window). Raises DisplayError with advice."""
        self._screen, self.driver, self.vsync = self._open_surface()
        self._canvas = TurnedCanvas(self._screen, Turn(self.config.rotation, self.size))
        self._black = self._plain(pygame.Color(0, 0, 0))
        self.picture.new = self._black
        self.composer.invalidate()
        self.desk.start(on_done=self.pacer.wake.set)
        cues = self.cues
        cues.invitation = wall.render_invitation(self.config.attract_text, self.upright)
        cues.set_overlay(cues.overlay_text, self.upright)
        cues.set_banner(cues.banner_text, self.upright, again=True)
        if self._artwork is not None:
            self.set_artwork(self._artwork)
        if self._poster is not None:
            self.set_poster(self._poster)
        log.info("kiosk open: %s driver=%s vsync=%s", self.size, self.driver, self.vsync)

    def _open_surface(self) -> tuple[pygame.Surface, str, bool]:
        """The display surface, SDL's driver and whether vsync is on (Wall windows: their own)."""
        screen, driver, vsync = open_window(self.config)
        pygame.display.set_caption(self.title or "installation")
        pygame.mouse.set_visible(not self.config.fullscreen)
        pygame.display.set_allow_screensaver(False)
        return screen, driver, vsync

    def close(self) -> None:
        """Release the display. Safe to call twice."""
        if self._screen is not None:
            self.desk.close()  # before pygame.quit(): it may be painting a slide
            self._screen = self._canvas = None
            # Slides belong to this display session; a reopen rebuilds the artwork.
            self.picture.clear()
            self._last = self._artwork_slide = self.cues.note = None
            self._poster_slide = None
            self._release()

    def _release(self) -> None:
        """Give the display back (a Wall window destroys only itself)."""
        quit_pygame()

    @property
    def size(self) -> tuple[int, int]:
        if self._screen is None:
            return tuple(self.config.window_size)  # type: ignore[return-value]
        w, h = self._screen.get_size()
        return w, h

    @property
    def upright(self) -> tuple[int, int]:
        """The screen as the visitor sees it: `size` turned by the rotation."""
        return Turn(self.config.rotation, self.size).upright

    def need_screen(self) -> pygame.Surface:
        if self._screen is None:
            raise DisplayError("the kiosk is not open: call open() first")
        return self._screen

    # -- pictures -----------------------------------------------------------------
    def _plain(self, colour: pygame.Color) -> pygame.Surface:
        return plain_slide(self.size, colour, self.need_screen())  # display format: no convert

    def _style(self) -> SlideStyle:
        screen = self.need_screen()
        return style_for(self.config, screen, self.background, self.title, self.artist)

    def _submit(
        self,
        slot: str,
        kind: str,
        image: np.ndarray,
        label: LabelInfo | None,
        painted: pygame.Surface | None = None,
    ) -> None:
        """Ask the painter for a slide (the newest per slot is shown), or hand the desk
        `painted` (painted ahead): the next collect() places it, as it would a fresh one."""
        credit = slot == "artwork" or label is not None
        job = SlideJob(slot, kind, image, label, credit, self._style(), self._state_seq)
        if painted is not None:
            self.desk.ready(job, painted)
        else:
            self.desk.submit(job)

    def _show(self, slide: pygame.Surface, fade_s: float) -> None:
        """Crossfade from whatever is on screen (even a running fade) to `slide`."""
        if slide is not self.picture.new:
            self.picture.show(slide, fade_s, self._clock())

    @property
    def _transition_s(self) -> float:
        return self.config.transition_ms / 1000.0

    def set_artwork(self, image: np.ndarray) -> None:
        """The source painting: the attract picture, and the first one shown."""
        self._artwork = to_rgb(image)
        if self._screen is not None:
            self._submit("artwork", "artwork", self._artwork, None)

    def set_poster(self, image: np.ndarray | None) -> None:
        """What the wall shows outside opening hours (standby); None: black."""
        self._poster = None if image is None else to_rgb(image)
        self._poster_slide = None
        if self._poster is not None and self._screen is not None:
            self._submit("poster", "poster", self._poster, None)

    def present(
        self, image: np.ndarray, label: LabelInfo | None, painting: np.ndarray | None = None
    ) -> None:
        """Crossfade to this image (transition_ms; 0 cuts). Returns at once: the slide is
        painted off the main thread and the fade starts on the first frame() after.
        `painting` (the variation's source) is for a Wall's painting screens; unused here."""
        self.need_screen()
        rgb = to_rgb(image)
        if np.may_share_memory(rgb, image):  # the caller may reuse its array: paint a copy
            rgb = rgb.copy()
        self._last_source = (rgb, label)
        self._submit("last", "present", rgb, label, self.desk.find(image, label, self._style()))

    def prepare(self, image: np.ndarray, label: LabelInfo | None) -> None:
        """Paint ahead the slide of a picture that may come next (slides.py PreparedSlides)."""
        if self.desk.open:
            self.desk.prepare(image, to_rgb(image), label, self._style())

    # -- slides coming back from the painter -----------------------------------------
    def collect(self, hold: bool = False) -> None:
        """Show the slides that finished painting (main thread, once per frame). `hold`
        keeps a finished present back (a Wall waits until every window has painted its)."""
        for job, slide in self.desk.finished(hold):
            if slide is not None:
                self._place(job, slide)

    def painting_present(self) -> bool:
        """A present was asked for and its slide is still being painted."""
        return self.desk.painting_present()

    @property
    def dropped_slides(self) -> int:
        """Slides painted but superseded by a newer present before shown."""
        return self.desk.dropped

    def _place(self, job: SlideJob, slide: pygame.Surface) -> None:
        """What a finished slide does, as if it had been made at once when asked for."""
        fade, dark = self._transition_s, self.state in ("standby", "blackout")
        if job.kind == "poster":
            self._poster_slide = slide
            if self.state == "standby":
                self._show(slide, fade)
            return
        if job.kind == "artwork":
            old, self._artwork_slide = self._artwork_slide, slide
            first = self.state in ("rolling", "presenting") and not self._last
            if (old is not None and self.picture.new is old) or self.state == "attract" or first:
                self._show(slide, fade)
            return
        old, self._last = self._last, slide
        self.presents_placed += job.kind == "present"
        if job.kind == "restyle":
            if old is not None and self.picture.new is old:
                self._show(slide, fade)
        elif dark:
            return  # kept for when the wall opens again
        elif job.state_seq != self._state_seq and self.state == "attract":
            # attract came after this present: invite over the painting (or this variation)
            self._show(self._artwork_slide or slide, fade)
        else:
            self._show(slide, fade)
            if job.state_seq == self._state_seq:
                self.cues.inviting = False  # a variation is on: the invitation would cover it

    def settled(self) -> bool:
        """Nothing being painted or waiting to be shown, and no fade running."""
        fading = self.picture.old is not None and self.picture.progress(self._clock()) < 1.0
        return not self.desk.wanted and not fading

    def wait_painted(self, timeout: float) -> bool:
        """Block until the slide painter is idle (tests, tools and a Wall's wait_ready)."""
        return self.desk.wait_idle(timeout)

    @property
    def waiting(self) -> bool:
        """Slides asked for and not yet put up."""
        return bool(self.desk.wanted)

    @property
    def is_open(self) -> bool:
        return self._screen is not None

    def wait_ready(self, timeout: float = 10.0) -> bool:
        """Tests and tools (main thread): wait for the slides asked for and put them up, as a
        frame() would. False if they were not ready within `timeout` seconds."""
        self.desk.wait_idle(timeout)
        self.collect()
        return not self.desk.wanted

    def set_state(self, state: str) -> None:
        """attract | rolling | presenting | standby | blackout (see the module docstring)."""
        if state not in STATES:
            raise ValueError(f"kiosk state {state!r} is not known; use one of {', '.join(STATES)}")
        previous, self.state = self.state, state
        self._state_seq += 1
        self.cues.inviting = state == "attract"
        if self._screen is None:
            return
        assert self._black is not None
        if state == "blackout":
            self._show(self._black, 0.0)
        elif state == "standby":
            self._show(self._poster_slide or self._black, self._transition_s)
        elif state == "attract":
            # Without a painting (text-to-image shows) invite over the last variation.
            self._show(self._artwork_slide or self._last or self._black, self._transition_s)
        elif previous in ("standby", "blackout"):
            back = self._last or self._artwork_slide
            if back is not None:
                self._show(back, self._transition_s)

    def set_banner(self, text: str | None) -> None:
        """A small note for the people in the room (top left): the gallery is closed and
        this is a rehearsal. None removes it."""
        self.cues.set_banner(text, self.upright if self._screen is not None else None)

    def set_overlay(self, text: str | None) -> None:
        """A readable error panel over everything (except blackout); None removes it."""
        self.cues.set_overlay(text, self.upright if self._screen is not None else None)

    def configure(self, config: DisplaySection, *, title: str, artist: str) -> None:
        """Live reload: apply what can change without reopening the window (background,
        attract text, label, fit, transition, fps, keys, title/artist). The RESTART_KEYS
        (fullscreen, display, window_size, rotation) keep their running values, logged."""
        kiosk_io.configure(self, config, title, artist)

    def restyle(self) -> None:
        """Repaint the artwork and the last variation in the new look (a present still being
        painted is repainted as a present)."""
        if self._artwork is not None:
            self._submit("artwork", "artwork", self._artwork, None)
        if self._poster is not None:
            self._submit("poster", "poster", self._poster, None)
        pending = self.desk.wanted.get("last")
        if pending is not None and pending.kind == "present":
            self.desk.submit(replace(pending, style=self._style()))
        elif self._last_source is not None and self._last is not None:
            self._submit("last", "restyle", *self._last_source)

    # -- frames -------------------------------------------------------------------
    def frame(self) -> None:
        """Draw one frame and flip; the pacer's wait for the next frame (or for news: a
        throw, a finished slide) is the loop's only wait."""
        now = self._clock()
        self.times.tick(now)
        try:
            self.collect()
            self.draw(now)
            self.flip()
        except pygame.error as e:
            raise DisplayError(f"drawing a frame failed: {e}") from e
        self.pacer.wait(self.config.fps, self.vsync)

    def draw(self, now: float) -> None:
        """What changed of the picture and the cues over it, into the screen (no flip)."""
        screen = self.need_screen()
        assert self._canvas is not None
        self.composer.draw(screen, self._canvas, self.state, now)

    def flip(self) -> None:
        """Show what draw() changed: all, some rectangles, or nothing (a still frame)."""
        self.composer.flip(pygame.display.flip, pygame.display.update)

    # -- input, status, reading back (kiosk_io.py) ------------------------------------
    def poll_input(self) -> list[object]:
        """Drain window events; return inbox events (rehearsal keys, KioskQuit)."""
        return kiosk_io.poll_input(self)

    @property
    def ignored_keys(self) -> int:
        return self.keys.ignored

    def stats(self) -> dict[str, object]:
        """For the status JSON: frames, fps and frame-time spread over the last frames."""
        return kiosk_io.stats(self)

    def read_pixels(self) -> np.ndarray:
        """The screen as HxWx3 uint8 RGB (what the last frame() drew)."""
        return kiosk_io.read_pixels(self)

    def screenshot(self, path: str | Path) -> Path:
        """Save the screen as a PNG, atomically."""
        return kiosk_io.screenshot(self, path)
