"""The kiosk: a fullscreen pygame-ce window that crossfades between pictures.

The app's main loop calls `poll_input()` and `frame()` every frame; nothing here
waits except `Clock.tick(fps)` inside `frame()`. Every picture is converted and
scaled once, when it arrives, into a screen-sized "slide" (picture, letterbox and
wall label baked in); a frame is then one or two blits, an invitation or cue, the
overlay and a flip. The kiosk knows nothing of dice, engines or OSC.

States: attract (the painting, or else the last variation, with the breathing
invitation), rolling (picture kept, three small dots breathe), presenting (the
variation and its label), standby (fades to black; errors still shown), blackout
(cut to black, nothing else). A present() in standby/blackout is kept for later.
"""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pygame

from installation.core.dice import Throw
from installation.core.events import KioskQuit, RandomThrow, ThrowCommitted
from installation.display import label as wall
from installation.display.label import LabelInfo
from installation.display.transitions import (
    BadImage,
    FrameTimes,
    alpha_byte,
    fade_progress,
    fit_picture,
    pulse,
    to_rgb,
)
from installation.errors import DisplayError
from installation.show.schema import DisplaySection

log = logging.getLogger(__name__)
__all__ = ["STATES", "BadImage", "Kiosk", "KioskQuit", "LabelInfo", "to_rgb"]

STATES = ("attract", "rolling", "presenting", "standby", "blackout")
NO_DISPLAY_ADVICE = (
    "run inside a desktop session, on a console with SDL_VIDEODRIVER=kmsdrm, "
    "or headless with SDL_VIDEODRIVER=dummy"
)
_DIGITS = {getattr(pygame, f"K_{d}"): d for d in range(1, 10)}
_DIGITS.update({getattr(pygame, f"K_KP{d}"): d for d in range(1, 10)})
_INVISIBLE_DRIVERS = ("offscreen", "dummy")
STATS_WINDOW = 600  # frame durations kept for fps and percentiles (10 s at 60 fps)


def parse_colour(text: str) -> pygame.Color:
    """display.background as a colour, with an error a curator can act on."""
    try:
        return pygame.Color(text)
    except (ValueError, TypeError) as e:
        raise DisplayError(
            f"display.background {text!r} is not a colour; use #rrggbb, e.g. '#000000'"
        ) from e


def _quit_pygame() -> None:
    """Shut pygame down; cached fonts die with it, so drop them first."""
    wall.clear_font_cache()
    pygame.quit()


class Kiosk:
    """The real display edge (pygame-ce). See module docstring; FakeKiosk has the same API."""

    def __init__(
        self,
        config: DisplaySection,
        *,
        title: str = "",
        artist: str = "",
        dice: int = 2,
        faces: int = 6,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.title, self.artist = title, artist
        self.dice, self.faces = dice, faces
        self._clock = clock
        self._background = parse_colour(config.background)
        self._screen: pygame.Surface | None = None
        self._ticker: pygame.time.Clock | None = None
        self.state = "attract"
        self.driver = ""
        self.vsync = False
        self._artwork: np.ndarray | None = None
        self._artwork_slide: pygame.Surface | None = None
        self._last: pygame.Surface | None = None  # the last presented slide
        self._black: pygame.Surface | None = None
        self._from: pygame.Surface | None = None  # None: no fade running
        self._to: pygame.Surface | None = None
        self._fade_start = 0.0
        self._fade_s = 0.0
        self._overlay_text: str | None = None
        self._overlay: pygame.Surface | None = None
        self._invitation: pygame.Surface | None = None
        self._pending: list[int] = []
        self._note: pygame.Surface | None = None  # rehearsal: faces typed so far
        self._inviting = True  # the attract invitation is drawn (attract, not covered)
        self.ignored_keys = 0
        self.times = FrameTimes(STATS_WINDOW)

    def __repr__(self) -> str:
        size = "x".join(map(str, self.size)) if self._screen else "closed"
        return f"<Kiosk {size} {self.state} frames={self.times.frames} driver={self.driver or '-'}>"

    # -- lifecycle ----------------------------------------------------------------
    def open(self) -> None:
        """Open the fullscreen kiosk (or a window). Raises DisplayError with advice."""
        cfg = self.config
        if not cfg.fullscreen and min(cfg.window_size) < 64:
            raise DisplayError(
                f"display.window_size {list(cfg.window_size)} is too small; use at least [64, 64]"
            )
        # A kiosk must not minimise when something else grabs focus (a notification, ssh X).
        os.environ.setdefault("SDL_VIDEO_MINIMIZE_ON_FOCUS_LOSS", "0")
        self._init_pygame()
        count = pygame.display.get_num_displays()
        if cfg.display >= count:
            _quit_pygame()
            raise DisplayError(
                f"display.display = {cfg.display}, but only {count} display(s) exist "
                f"(use 0..{count - 1})"
            )
        self._screen = self._set_mode()
        pygame.display.set_caption(self.title or "installation")
        pygame.mouse.set_visible(not cfg.fullscreen)
        pygame.display.set_allow_screensaver(False)
        self._ticker = pygame.time.Clock()
        self._black = self._plain(pygame.Color(0, 0, 0))
        self._to = self._black
        self._invitation = wall.render_invitation(cfg.attract_text, self.size)
        if self._overlay_text:
            self._overlay = wall.render_overlay(self._overlay_text, self.size)
        if self._artwork is not None:
            self.set_artwork(self._artwork)
        log.info("kiosk open: %s driver=%s vsync=%s", self.size, self.driver, self.vsync)

    def _init_pygame(self) -> None:
        requested = os.environ.get("SDL_VIDEODRIVER", "")
        try:
            pygame.display.init()
            pygame.font.init()
            wall.clear_font_cache()  # fonts from an earlier pygame session are invalid
        except pygame.error as e:
            raise DisplayError(f"no display ({e}): {NO_DISPLAY_ADVICE}") from e
        self.driver = pygame.display.get_driver()
        # Without a display SDL silently picks its invisible 'offscreen' driver: on a gallery
        # wall that is a black screen with no error. Only accept it when asked for by name.
        if self.driver in _INVISIBLE_DRIVERS and self.driver not in requested:
            _quit_pygame()
            raise DisplayError(
                f"no display: SDL fell back to its invisible '{self.driver}' driver; "
                f"{NO_DISPLAY_ADVICE}"
            )

    def _set_mode(self) -> pygame.Surface:
        """Fullscreen at the desktop size with vsync if the driver gives it, else without."""
        cfg = self.config
        if cfg.fullscreen:
            size = pygame.display.get_desktop_sizes()[cfg.display]
            attempts = [(pygame.FULLSCREEN | pygame.SCALED, 1), (pygame.FULLSCREEN, 0)]
        else:
            size = (cfg.window_size[0], cfg.window_size[1])
            attempts = [(0, 0)]
        problems = []
        for flags, vsync in attempts:
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    screen = pygame.display.set_mode(size, flags, display=cfg.display, vsync=vsync)
            except pygame.error as e:
                problems.append(f"flags={flags} vsync={vsync}: {e}")
                log.warning("display mode %s vsync=%s refused: %s", size, vsync, e)
                continue
            for w in caught:  # e.g. "no fast renderer available" under the dummy driver
                log.info("display mode %s: %s", size, w.message)
            self.vsync = bool(vsync)
            return screen
        _quit_pygame()
        raise DisplayError(f"could not open a {size} display: " + "; ".join(problems))

    def close(self) -> None:
        """Release the display. Safe to call twice."""
        if self._screen is not None:
            self._screen = None
            # Slides belong to this display session; a reopen rebuilds the artwork.
            self._from = self._to = self._last = self._artwork_slide = self._note = None
            _quit_pygame()

    @property
    def size(self) -> tuple[int, int]:
        if self._screen is None:
            return tuple(self.config.window_size)  # type: ignore[return-value]
        w, h = self._screen.get_size()
        return w, h

    def _need_screen(self) -> pygame.Surface:
        if self._screen is None:
            raise DisplayError("the kiosk is not open: call open() first")
        return self._screen

    # -- pictures -----------------------------------------------------------------
    def _plain(self, colour: pygame.Color) -> pygame.Surface:
        surface = pygame.Surface(self.size, 0, self._need_screen())  # display format: no convert
        surface.fill(colour)
        return surface

    def _slide(self, image: np.ndarray, label: LabelInfo | None, credit: bool) -> pygame.Surface:
        """A screen-sized surface: the picture fitted once (smoothscale), letterbox, label."""
        rgb = to_rgb(image)
        h, w = rgb.shape[:2]
        data = rgb.tobytes()  # frombuffer borrows these bytes: keep them alive until convert()
        picture = pygame.image.frombuffer(data, (w, h), "RGB").convert()
        fit = fit_picture((w, h), self.size, self.config.fit)
        scaled = pygame.transform.smoothscale(picture.subsurface(fit.crop), fit.size)
        slide = self._plain(self._background)
        slide.blit(scaled, fit.pos)
        if self.config.label and (label is not None or credit):
            band = wall.render_label(label, self.title, self.artist, self.size)
            if band is not None:
                slide.blit(band, wall.label_position(band, self.size))
        return slide

    def _mix(self, now: float) -> pygame.Surface:
        """What the picture layer shows right now, as one surface (for a fade from a fade)."""
        assert self._to is not None
        if self._from is None:
            return self._to
        mix = self._from.copy()
        self._to.set_alpha(alpha_byte(fade_progress(self._fade_start, self._fade_s, now)))
        mix.blit(self._to, (0, 0))
        self._to.set_alpha(None)
        return mix

    def _show(self, slide: pygame.Surface, fade_s: float) -> None:
        """Crossfade from whatever is on screen (even a running fade) to `slide`."""
        if slide is self._to:
            return
        now = self._clock()
        self._from = self._mix(now) if fade_s > 0 else None
        self._to, self._fade_start, self._fade_s = slide, now, fade_s

    @property
    def _transition_s(self) -> float:
        return self.config.transition_ms / 1000.0

    def set_artwork(self, image: np.ndarray) -> None:
        """The source painting: the attract picture, and the first one shown."""
        self._artwork = to_rgb(image)
        if self._screen is None:
            return
        self._artwork_slide = self._slide(self._artwork, None, credit=True)
        if self.state == "attract" or (self.state in ("rolling", "presenting") and not self._last):
            self._show(self._artwork_slide, self._transition_s)

    def present(self, image: np.ndarray, label: LabelInfo | None) -> None:
        """Crossfade to this image (transition_ms; 0 cuts). Scaled once, here."""
        self._need_screen()
        self._last = self._slide(image, label, credit=label is not None)
        if self.state not in ("standby", "blackout"):
            self._show(self._last, self._transition_s)
            self._inviting = False  # a variation is on: the invitation would cover it

    def set_state(self, state: str) -> None:
        """attract | rolling | presenting | standby | blackout (see the module docstring)."""
        if state not in STATES:
            raise ValueError(f"kiosk state {state!r} is not known; use one of {', '.join(STATES)}")
        previous, self.state = self.state, state
        self._inviting = state == "attract"
        if self._screen is None:
            return
        assert self._black is not None
        if state == "blackout":
            self._show(self._black, 0.0)
        elif state == "standby":
            self._show(self._black, self._transition_s)
        elif state == "attract":
            # Without a painting (text-to-image shows) invite over the last variation.
            self._show(self._artwork_slide or self._last or self._black, self._transition_s)
        elif previous in ("standby", "blackout"):
            back = self._last or self._artwork_slide
            if back is not None:
                self._show(back, self._transition_s)

    def set_overlay(self, text: str | None) -> None:
        """A readable error panel over everything (except blackout); None removes it."""
        self._overlay_text = text or None
        self._overlay = None
        if self._overlay_text and self._screen is not None:
            self._overlay = wall.render_overlay(self._overlay_text, self.size)

    # -- input --------------------------------------------------------------------
    def poll_input(self) -> list[object]:
        """Drain window events; return inbox events (rehearsal keys, KioskQuit)."""
        if self._screen is None:
            return []
        out: list[object] = []
        pending = list(self._pending)
        for event in pygame.event.get():
            if event.type == pygame.QUIT:
                out += self._quit("window closed")
            elif event.type == pygame.KEYDOWN:
                out += self._key(event.key)
        if self._pending != pending:
            self._note = self._typed_note()
        return out

    def _typed_note(self) -> pygame.Surface | None:
        """'Dice: 3 _' while a rehearsal throw is being typed; None when nothing is typed."""
        if not self._pending:
            return None
        typed = [str(f) for f in self._pending] + ["_"] * (self.dice - len(self._pending))
        return wall.render_note("Dice: " + " ".join(typed), self.size)

    def _quit(self, reason: str) -> list[object]:
        if self.config.allow_quit_key or not self.config.fullscreen:
            return [KioskQuit(reason)]
        self.ignored_keys += 1
        log.info("%s ignored: the kiosk is fullscreen and allow_quit_key is off", reason)
        return []

    def _key(self, key: int) -> list[object]:
        if key == pygame.K_ESCAPE:
            return self._quit("escape")
        rehearsal = self.config.rehearsal_keys
        if rehearsal and key in _DIGITS and _DIGITS[key] <= self.faces:
            self._pending.append(_DIGITS[key])
            if len(self._pending) < self.dice:
                return []
            faces, self._pending = tuple(self._pending), []
            return [ThrowCommitted(Throw(faces, source="keyboard"))]
        if rehearsal and key == pygame.K_SPACE:
            self._pending = []
            return [RandomThrow("keyboard")]
        if rehearsal and key == pygame.K_BACKSPACE and self._pending:
            self._pending.pop()
            return []
        self.ignored_keys += 1
        return []

    # -- frames -------------------------------------------------------------------
    def frame(self) -> None:
        """Draw one frame and flip; Clock.tick(fps) is the loop's only wait."""
        screen = self._need_screen()
        now = self._clock()
        self.times.tick(now)
        try:
            self._draw(screen, now)
            pygame.display.flip()
        except pygame.error as e:
            raise DisplayError(f"drawing a frame failed: {e}") from e
        assert self._ticker is not None
        self._ticker.tick(self.config.fps)

    def _draw(self, screen: pygame.Surface, now: float) -> None:
        assert self._to is not None
        progress = fade_progress(self._fade_start, self._fade_s, now)
        if self._from is not None and progress >= 1.0:
            self._from = None  # fade finished: free the old slide
        if self._from is None:
            screen.blit(self._to, (0, 0))
        else:
            screen.blit(self._from, (0, 0))
            self._to.set_alpha(alpha_byte(progress))
            screen.blit(self._to, (0, 0))
            self._to.set_alpha(None)
        if self.state == "blackout":
            return
        if self._inviting and self._invitation is not None:
            breath = pulse(now - self._fade_start, 4.0, 0.7, 1.0)
            self._invitation.set_alpha(alpha_byte(breath * progress))
            w, h = self.size
            screen.blit(self._invitation, self._invitation.get_rect(center=(w // 2, h * 72 // 100)))
        elif self.state == "rolling":
            self._draw_rolling(screen, now)
        if self._note is not None:
            screen.blit(self._note, self._note.get_rect(topright=(self.size[0] - 8, 8)))
        if self._overlay is not None:
            w, h = self.size
            screen.blit(self._overlay, self._overlay.get_rect(midtop=(w // 2, h // 50)))

    def _draw_rolling(self, screen: pygame.Surface, now: float) -> None:
        """A subtle cue: three small dots breathing in turn, bottom centre."""
        w, h = self.size
        radius = max(2, h // 160)
        for i in range(3):
            level = round(pulse(now - 0.25 * i, 1.2, 70, 235))
            centre = (w // 2 + (i - 1) * radius * 4, h - radius * 6)
            pygame.draw.circle(screen, (level, level, level), centre, radius)

    def stats(self) -> dict[str, object]:
        """For the status JSON: frames shown, fps and frame-time spread over the last frames."""
        return {
            **self.times.summary(),
            "state": self.state,
            "size": list(self.size),
            "driver": self.driver,
            "vsync": self.vsync,
            "fading": self._from is not None,
            "ignored_keys": self.ignored_keys,
            "overlay": self._overlay_text is not None,
        }

    # -- reading back -------------------------------------------------------------
    def read_pixels(self) -> np.ndarray:
        """The screen as HxWx3 uint8 RGB (what the last frame() drew)."""
        screen = self._need_screen()
        return np.ascontiguousarray(pygame.surfarray.array3d(screen).swapaxes(0, 1))

    def screenshot(self, path: str | Path) -> Path:
        """Save the screen as a PNG, atomically (write a temp file, then rename)."""
        screen = self._need_screen()
        target = Path(path)
        tmp = target.with_name(f".{target.stem}.{os.getpid()}.tmp.png")
        try:
            pygame.image.save(screen, str(tmp))
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        return target
