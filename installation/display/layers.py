"""The kiosk's two layers: the picture (a crossfade between slides) and the cues over it.

PictureLayer holds the slide on screen and, during a fade, the one it fades from (which
may itself be a fade still running). CueLayer holds what is drawn over the picture: the
breathing invitation (attract), the rolling dots, the rehearsal note and the error
overlay. The Kiosk decides what each shows; these only keep the surfaces and blit them.
Times come from the caller: nothing here reads a clock.
"""

from __future__ import annotations

import pygame

from installation.display import label as wall
from installation.display.transitions import alpha_byte, fade_progress, pulse
from installation.display.turn import TurnedCanvas


class PictureLayer:
    """The slide on screen (`new`) and, while a fade runs, the slide it fades from (`old`)."""

    def __init__(self) -> None:
        self.old: pygame.Surface | None = None  # None: no fade running
        self.new: pygame.Surface | None = None
        self.start = 0.0  # when the current fade began
        self.duration_s = 0.0

    def progress(self, now: float) -> float:
        return fade_progress(self.start, self.duration_s, now)

    def mix(self, now: float) -> pygame.Surface:
        """What the layer shows right now, as one surface (for a fade from a fade)."""
        assert self.new is not None
        if self.old is None:
            return self.new
        mix = self.old.copy()
        self.new.set_alpha(alpha_byte(self.progress(now)))
        mix.blit(self.new, (0, 0))
        self.new.set_alpha(None)
        return mix

    def show(self, slide: pygame.Surface, fade_s: float, now: float) -> None:
        """Fade from whatever is on screen (even a running fade) to `slide`; 0 cuts."""
        self.old = self.mix(now) if fade_s > 0 else None
        self.new, self.start, self.duration_s = slide, now, fade_s

    def clear(self) -> None:
        self.old = self.new = None

    def draw(self, screen: pygame.Surface, now: float) -> float:
        """Blit the picture; the fade's progress 0..1 (1 when none runs)."""
        assert self.new is not None
        progress = self.progress(now)
        if self.old is not None and progress >= 1.0:
            self.old = None  # fade finished: free the old slide
        if self.old is None:
            screen.blit(self.new, (0, 0))
        else:
            screen.blit(self.old, (0, 0))
            self.new.set_alpha(alpha_byte(progress))
            screen.blit(self.new, (0, 0))
            self.new.set_alpha(None)
        return progress


class CueLayer:
    """The invitation, the rolling dots, the rehearsal note and banner, the error overlay."""

    def __init__(self) -> None:
        self.invitation: pygame.Surface | None = None
        self.inviting = True  # the attract invitation is drawn (attract, not covered)
        self.note: pygame.Surface | None = None  # rehearsal: faces typed so far
        self.banner_text: str | None = None  # rehearsal outside opening hours
        self.banner: pygame.Surface | None = None
        self.overlay_text: str | None = None
        self.overlay: pygame.Surface | None = None

    def set_overlay(self, text: str | None, size: tuple[int, int] | None) -> None:
        """The error panel's text; rendered now if the screen (`size`) is open."""
        self.overlay_text, self.overlay = text or None, None
        if self.overlay_text and size is not None:
            self.overlay = wall.render_overlay(self.overlay_text, size)

    def set_banner(
        self, text: str | None, size: tuple[int, int] | None, again: bool = False
    ) -> None:
        """The rehearsal banner's text; rendered now if the screen (`size`) is open."""
        if text == self.banner_text and not again:
            return
        self.banner_text, self.banner = text or None, None
        if self.banner_text and size is not None:
            self.banner = wall.render_note(self.banner_text, size)

    def draw(self, screen: TurnedCanvas, state: str, now: float, picture: PictureLayer) -> None:
        """Draw over the picture (nothing in blackout), in upright coordinates. The invitation
        breathes from the start of the picture's last fade and fades in with it."""
        if state == "blackout":
            return
        w, h = screen.get_size()
        if self.inviting and self.invitation is not None:
            breath = pulse(now - picture.start, 4.0, 0.7, 1.0)
            self.invitation.set_alpha(alpha_byte(breath * picture.progress(now)))
            where = self.invitation.get_rect(center=(w // 2, h * 72 // 100))
            screen.blit(self.invitation, where.topleft)
        elif state == "rolling":
            draw_rolling(screen, now)
        if self.note is not None:
            screen.blit(self.note, self.note.get_rect(topright=(w - 8, 8)).topleft)
        if self.banner is not None:
            screen.blit(self.banner, (8, 8))
        if self.overlay is not None:
            screen.blit(self.overlay, self.overlay.get_rect(midtop=(w // 2, h // 50)).topleft)


def draw_rolling(screen: TurnedCanvas, now: float) -> None:
    """A subtle cue: three small dots breathing in turn, bottom centre."""
    w, h = screen.get_size()
    radius = max(2, min(h, w * 9 // 16) // 160)
    for i in range(3):
        level = round(pulse(now - 0.25 * i, 1.2, 70, 235))
        centre = (w // 2 + (i - 1) * radius * 4, h - radius * 6)
        screen.circle((level, level, level), centre, radius)
