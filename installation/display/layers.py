"""The kiosk's two layers: the picture (a crossfade between slides) and the cues over it.

PictureLayer holds the slide on screen and, during a fade, the one it fades from (which
may itself be a fade still running). CueLayer holds what is drawn over the picture: the
breathing invitation (attract), the rolling dots, the rehearsal note and the error
overlay. The Kiosk decides what each shows; these only keep the surfaces and blit them.
Times come from the caller: nothing here reads a clock.

Each layer remembers what it last put on the screen, so a frame draws only what changed
(compose() says what, for the flip): the picture is blitted again only when its slide or
the fade's alpha byte changed; a breathing cue only restores the picture under itself and
is drawn again. A frame where nothing changed draws and flips nothing, so a still wall
costs next to no CPU; whatever moves is still drawn on every frame it changes.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import pygame

from installation.display import label as wall
from installation.display.transitions import alpha_byte, fade_progress, pulse
from installation.display.turn import TurnedCanvas, set_alpha

REDRAWS = ("full", "part", "still")  # frames drawn whole, in part, not at all (Composer)
AREA_SHARE = 0.75  # a fade drawn in rectangles covering more than this is drawn whole
MAX_RECTS = 8
Content = tuple[tuple[int, int, int], tuple[pygame.Rect, ...]]  # background, where not


@dataclass
class Drawn:
    """What a frame put on the screen: all of it, some rectangles, or nothing."""

    full: bool = False
    rects: list[pygame.Rect] = field(default_factory=list)


def content_of(surface: pygame.Surface) -> Content | None:
    """A slide's background and where it is not background (slides.Slide); None: unknown."""
    background = getattr(surface, "background", None)
    rects = getattr(surface, "content", None)
    return None if background is None or rects is None else (background, rects)


def joined(a: Content | None, b: Content | None) -> Content | None:
    """Where two pictures of one background may not be background (None: anywhere)."""
    if a is None or b is None or a[0] != b[0]:
        return None
    rects = list(a[1])
    rects += [r for r in b[1] if r not in rects]
    return (a[0], tuple(rects)) if len(rects) <= MAX_RECTS else None


class PictureLayer:
    """The slide on screen (`new`) and, while a fade runs, the slide it fades from (`old`).

    Slides that know where they are not background (slides.Slide: the letterboxed picture
    and the label) are updated on the display only there: the letterbox is the same on
    both sides of the fade."""

    def __init__(self) -> None:
        self.old: pygame.Surface | None = None  # None: no fade running
        self.new: pygame.Surface | None = None
        self.start = 0.0  # when the current fade began
        self.duration_s = 0.0
        self._scratch: pygame.Surface | None = None  # the mix of a fade from a fade, reused
        self._mixed: Content | None = None  # where the scratch is not background
        self.drawn: tuple[object, ...] | None = None  # (new, old, alpha) on the screen now
        self.shown: Content | None = None  # where the screen is not background now

    def progress(self, now: float) -> float:
        return fade_progress(self.start, self.duration_s, now)

    def _content(self, surface: pygame.Surface | None) -> Content | None:
        if surface is None:
            return None
        return self._mixed if surface is self._scratch else content_of(surface)

    def mix(self, now: float) -> pygame.Surface:
        """What the layer shows right now, as one surface (for a fade from a fade). Mixed
        into one surface kept for this (in place when the fade ran from a mix already): no
        screen-sized allocation and at most one opaque and one alpha blit."""
        assert self.new is not None
        if self.old is None:
            return self.new
        content = joined(self._content(self.old), self._content(self.new))
        mix, prior = self._scratch, self._mixed
        if mix is None or mix.get_size() != self.new.get_size():
            mix, prior = pygame.Surface(self.new.get_size(), 0, self.new), None
            self._scratch = mix
        region = joined(prior, content)  # outside it the mix is background before and after
        bounds = mix.get_rect()
        rects = [bounds] if region is None else [aligned(r, bounds) for r in region[1]]
        if self.old is mix and _overlap(rects):  # in place: a pixel must blend only once
            rects = [bounds]
        alpha = alpha_byte(self.progress(now))
        for rect in rects:
            if self.old is not mix:
                mix.blit(self.old.subsurface(rect), rect.topleft)
            mix.blit(_faded(self.new, rect, alpha), rect.topleft)
        self._mixed = content
        return mix

    def show(self, slide: pygame.Surface, fade_s: float, now: float) -> None:
        """Fade from whatever is on screen (even a running fade) to `slide`; 0 cuts."""
        self.old = self.mix(now) if fade_s > 0 else None
        self.new, self.start, self.duration_s = slide, now, fade_s
        self.drawn = None  # the mix may have changed in place

    def clear(self) -> None:
        self.old = self.new = self._scratch = self._mixed = self.drawn = self.shown = None

    def draw(self, screen: pygame.Surface, now: float, again: bool = True) -> Drawn:
        """Blit the picture; without `again` only if the screen does not show exactly this
        already (same slides, same alpha byte), and only where it may differ."""
        assert self.new is not None
        progress = self.progress(now)
        if self.old is not None and progress >= 1.0:
            self.old = None  # fade finished: free the old slide
        alpha = alpha_byte(progress) if self.old is not None else 255
        drawn = (self.new, self.old, alpha)
        if not again and self.drawn is not None and all(map(_same, drawn, self.drawn)):
            return Drawn()
        target = self._content(self.new)
        if self.old is not None:
            target = joined(self._content(self.old), target)
        area = None if again else self._area(screen, target)
        self.drawn, self.shown = drawn, target
        # Blitted whole even when only `area` can change: pygame-ce 2.5.8 blends a whole
        # surface (contiguous rows) as fast as a 1088x1080 part of it (measured); what the
        # area saves is the update: only those rectangles go to the display (X11 puts).
        self.restore(screen, screen.get_rect())
        return Drawn(full=True) if area is None else Drawn(rects=area)

    def _area(self, screen: pygame.Surface, target: Content | None) -> list[pygame.Rect] | None:
        """The rectangles to draw to go from what is shown to `target` (None: all)."""
        both = joined(self.shown, target)
        if both is None:
            return None
        full = screen.get_rect()
        rects = [c for c in (aligned(r, full) for r in both[1]) if c.w and c.h]
        rects = [r for r in rects if not any(o != r and o.contains(r) for o in rects)]
        if union_area(rects) > AREA_SHARE * full.w * full.h:
            return None
        return rects

    def restore(self, screen: pygame.Surface, rect: pygame.Rect) -> None:
        """Draw the picture as last drawn (the fade at its alpha) over `rect` of the screen.
        Blits of subsurfaces: pygame-ce 2.5's blit with an `area` is 2-3x slower."""
        assert self.new is not None and self.drawn is not None
        whole = self.new.get_rect()
        rect = rect.clip(whole)
        if not (rect.w and rect.h):
            return
        if rect == whole and self.old is not None:
            screen.blit(self.old, (0, 0))
            set_alpha(self.new, self.drawn[2] if isinstance(self.drawn[2], int) else 255)
            screen.blit(self.new, (0, 0))
            self.new.set_alpha(None)
            return
        if self.old is None:
            screen.blit(self.new.subsurface(rect), rect.topleft)
            return
        screen.blit(self.old.subsurface(rect), rect.topleft)
        alpha = self.drawn[2]
        screen.blit(_faded(self.new, rect, alpha if isinstance(alpha, int) else 255), rect.topleft)


def union_area(rects: list[pygame.Rect]) -> int:
    """The pixels covered by any of a few rectangles (overlaps counted once)."""
    xs = sorted({x for r in rects for x in (r.left, r.right)})
    area = 0
    for left, right in itertools.pairwise(xs):
        spans = sorted((r.top, r.bottom) for r in rects if r.left <= left and r.right >= right)
        covered, end = 0, None
        for top, bottom in spans:
            if end is None or top > end:
                covered, end = covered + bottom - top, bottom
            elif bottom > end:
                covered, end = covered + bottom - end, bottom
        area += covered * (right - left)
    return area


def aligned(rect: pygame.Rect, bounds: pygame.Rect) -> pygame.Rect:
    """`rect` widened to whole 16-pixel columns, inside `bounds`: SDL copies rows of a
    multiple of 64 bytes with SIMD (a 1080 px wide blit took 4x as long as a 1088 px one)."""
    left, right = rect.left // 16 * 16, -(-rect.right // 16) * 16
    return pygame.Rect(left, rect.top, right - left, rect.height).clip(bounds)


def _faded(surface: pygame.Surface, rect: pygame.Rect, alpha: int) -> pygame.Surface:
    """`rect` of `surface` to blit at `alpha` (a subsurface has its own alpha, not its
    parent's)."""
    part = surface.subsurface(rect)
    set_alpha(part, alpha)
    return part


def _overlap(rects: list[pygame.Rect]) -> bool:
    return any(a.colliderect(b) for a, b in itertools.combinations(rects, 2))


def _same(a: object, b: object) -> bool:
    return a is b or (isinstance(a, int) and a == b)


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
        self.drawn: list[Cue] = []  # the cues on the screen now

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

    def plan(
        self, screen: TurnedCanvas, state: str, now: float, picture: PictureLayer
    ) -> list[Cue]:
        """What goes over the picture now (nothing in blackout), in upright coordinates. The
        invitation breathes from the start of the picture's last fade and fades in with it."""
        if state == "blackout":
            return []
        w, h = screen.get_size()
        cues = []
        if self.inviting and self.invitation is not None:
            breath = pulse(now - picture.start, 4.0, 0.7, 1.0)
            alpha = alpha_byte(breath * picture.progress(now))
            where = self.invitation.get_rect(center=(w // 2, h * 72 // 100))
            cues.append(_blit(screen, self.invitation, where.topleft, alpha))
        elif state == "rolling":
            levels, rect = rolling_dots(screen, now)
            cues.append(Cue(("rolling", *levels), rect, lambda: draw_rolling(screen, now)))
        if self.note is not None:
            cues.append(_blit(screen, self.note, self.note.get_rect(topright=(w - 8, 8)).topleft))
        if self.banner is not None:
            cues.append(_blit(screen, self.banner, (8, 8)))
        if self.overlay is not None:
            where = self.overlay.get_rect(midtop=(w // 2, h // 50))
            cues.append(_blit(screen, self.overlay, where.topleft))
        return cues

    def draw(self, screen: TurnedCanvas, state: str, now: float, picture: PictureLayer) -> None:
        """Draw every cue over a picture just blitted whole."""
        self.paint(self.plan(screen, state, now, picture))

    def paint(self, cues: list[Cue]) -> None:
        for cue in cues:
            cue.paint()
        self.drawn = cues


@dataclass(frozen=True)
class Cue:
    """One thing drawn over the picture: equal keys draw equal pixels into `rect` (window
    coordinates, turned); `paint` draws it."""

    key: tuple[object, ...]
    rect: pygame.Rect
    paint: Callable[[], None] = field(compare=False)


def _blit(
    screen: TurnedCanvas, surface: pygame.Surface, pos: tuple[int, int], alpha: int | None = None
) -> Cue:
    def paint() -> None:
        if alpha is not None:  # the invitation breathes; the others keep their own alpha
            set_alpha(surface, alpha)
        screen.blit(surface, pos)

    rect = screen.turn.rect(surface.get_rect(topleft=pos))
    return Cue((surface, alpha), rect, paint)


class Composer:
    """Draws a frame with as little as changed (module docstring) and counts the frames
    drawn whole, in part and not at all."""

    REFRESH_S = 2.0  # the whole screen is drawn at least this often, whatever happened

    def __init__(self, picture: PictureLayer, cues: CueLayer, refresh_s: float = REFRESH_S) -> None:
        self.picture, self.cues = picture, cues
        self.refresh_s = refresh_s
        self.invalid = True  # the screen's pixels are unknown: draw it all
        self._full_at = 0.0
        self.counts = dict.fromkeys(REDRAWS, 0)
        self.last = Drawn()

    def invalidate(self) -> None:
        """The screen must be drawn whole next frame (a window exposed, a new surface)."""
        self.invalid = True

    def draw(self, screen: pygame.Surface, canvas: TurnedCanvas, state: str, now: float) -> Drawn:
        picture, cues = self.picture, self.cues
        again = self.invalid or not self._full_at <= now < self._full_at + self.refresh_s
        drawn = picture.draw(screen, now, again)
        plan = cues.plan(canvas, state, now, picture)
        if drawn.full:
            cues.paint(plan)
            self.invalid, self._full_at = False, now
        elif drawn.rects or plan != cues.drawn:
            # the cues before and now: the picture back under them, then all drawn again
            rects = [c.rect for c in cues.drawn] + [c.rect for c in plan]
            for rect in rects:
                picture.restore(screen, rect)
            cues.paint(plan)
            drawn = Drawn(rects=drawn.rects + rects)
        self.counts["full" if drawn.full else "part" if drawn.rects else "still"] += 1
        self.last = drawn
        return drawn

    def flip(
        self, whole: Callable[[], object], rects: Callable[[list[pygame.Rect]], object]
    ) -> None:
        """Show what the last draw() changed: `whole` after a full draw, else `rects`."""
        if self.last.full:
            whole()
        elif self.last.rects:
            rects(self.last.rects)


def _dots(screen: TurnedCanvas, now: float) -> tuple[int, list[tuple[int, tuple[int, int]]]]:
    w, h = screen.get_size()
    radius = max(2, min(h, w * 9 // 16) // 160)
    dots = []
    for i in range(3):
        level = round(pulse(now - 0.25 * i, 1.2, 70, 235))
        dots.append((level, (w // 2 + (i - 1) * radius * 4, h - radius * 6)))
    return radius, dots


def draw_rolling(screen: TurnedCanvas, now: float) -> None:
    """A subtle cue: three small dots breathing in turn, bottom centre."""
    radius, dots = _dots(screen, now)
    for level, centre in dots:
        screen.circle((level, level, level), centre, radius)


def rolling_dots(screen: TurnedCanvas, now: float) -> tuple[tuple[int, ...], pygame.Rect]:
    """The dots' grey levels now and the window rectangle they are drawn in."""
    radius, dots = _dots(screen, now)
    rects = [
        screen.turn.rect(pygame.Rect(c, (1, 1))).inflate(2 * radius + 4, 2 * radius + 4)
        for _, c in dots
    ]
    return tuple(level for level, _ in dots), rects[0].unionall(rects[1:])
