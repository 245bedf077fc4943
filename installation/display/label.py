"""Text and marks on the wall: the wall label (dice pips, text, title/artist),
the attract invitation and the error overlay.

Everything is rendered once into a Surface when it changes; the kiosk only
blits these per frame. Sizes are relative to the screen height so the label
reads the same on a 720p monitor and a 4K projector.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import pygame

# Standard pip layouts in unit coordinates (0..1 across the die face).
_L, _M, _H = 0.25, 0.5, 0.75
PIPS: dict[int, tuple[tuple[float, float], ...]] = {
    1: ((_M, _M),),
    2: ((_L, _L), (_H, _H)),
    3: ((_L, _L), (_M, _M), (_H, _H)),
    4: ((_L, _L), (_H, _L), (_L, _H), (_H, _H)),
    5: ((_L, _L), (_H, _L), (_M, _M), (_L, _H), (_H, _H)),
    6: ((_L, _L), (_H, _L), (_L, _M), (_H, _M), (_L, _H), (_H, _H)),
}

WHITE = (255, 255, 255)
INK = (20, 20, 20)
BAND = (0, 0, 0, 165)
TEXT = (245, 245, 240)
SOFT = (200, 200, 195)


@dataclass(frozen=True)
class LabelInfo:
    """What the wall label says about one variation: the faces and the app's formatted text."""

    faces: tuple[int, ...]
    text: str


@functools.lru_cache(maxsize=32)
def _font(px: int, italic: bool = False) -> pygame.font.Font:
    """Cached: loading the font file costs more than rendering the label."""
    font = pygame.font.Font(None, max(8, px))
    font.italic = italic
    return font


def printable(text: str, limit: int = 300) -> str:
    """Text safe to render: control characters (a NUL makes pygame raise) become spaces,
    and it is cut at `limit` characters. Newlines survive for the overlay to wrap."""
    cleaned = "".join(c if c == "\n" or c.isprintable() else " " for c in text[: limit + 1])
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def clear_font_cache() -> None:
    """Forget cached fonts: call before pygame.font.quit(), after which they are invalid."""
    _font.cache_clear()


def draw_die(surface: pygame.Surface, rect: pygame.Rect, face: int) -> None:
    """A white rounded square with black pips for 1-6, or the number for other faces."""
    pygame.draw.rect(surface, WHITE, rect, border_radius=max(2, rect.w // 6))
    if face in PIPS:
        radius = max(2, round(rect.w * 0.1))
        for fx, fy in PIPS[face]:
            centre = (rect.x + round(fx * rect.w), rect.y + round(fy * rect.h))
            pygame.draw.aacircle(surface, INK, centre, radius)
        return
    digits = _font(round(rect.h * 0.8)).render(str(face), True, INK)
    surface.blit(digits, digits.get_rect(center=rect.center))


def _text_lines(info: LabelInfo | None, title: str, artist: str) -> list[tuple[str, bool]]:
    """(text, is_main) lines of the label; the title/artist line is quieter."""
    lines: list[tuple[str, bool]] = []
    if info is not None and info.text:
        lines.append((printable(info.text).replace("\n", " "), True))
    credit = printable(" · ".join(p for p in (title, artist) if p)).replace("\n", " ")
    if credit:
        lines.append((credit, False))
    return lines


def render_label(
    info: LabelInfo | None, title: str, artist: str, screen: tuple[int, int]
) -> pygame.Surface | None:
    """The wall label on a semi-transparent dark band, or None when there is nothing to say."""
    width, height = screen
    lines = _text_lines(info, title, artist)
    faces = info.faces if info is not None else ()
    if not lines and not faces:
        return None
    pad = max(4, round(height * 0.018))
    die = max(12, round(height * 0.06))
    gap = max(3, round(die * 0.22))
    main, soft = _font(round(height * 0.04)), _font(round(height * 0.03), italic=True)
    texts = [
        (main if is_main else soft).render(t, True, TEXT if is_main else SOFT)
        for t, is_main in lines
    ]
    dice_w = len(faces) * die + max(0, len(faces) - 1) * gap
    text_w = max((t.get_width() for t in texts), default=0)
    text_h = sum(t.get_height() for t in texts)
    inner_w = dice_w + (pad if faces and texts else 0) + text_w
    band_w = min(width - 2 * pad, inner_w + 2 * pad)
    band_h = max(die if faces else 0, text_h) + 2 * pad
    band = pygame.Surface((band_w, band_h), pygame.SRCALPHA)
    pygame.draw.rect(band, BAND, band.get_rect(), border_radius=pad)
    for i, face in enumerate(faces):
        draw_die(band, pygame.Rect(pad + i * (die + gap), (band_h - die) // 2, die, die), face)
    x = pad + dice_w + (pad if faces else 0)
    y = (band_h - text_h) // 2
    for t in texts:
        band.blit(t, (x, y))
        y += t.get_height()
    return band


def label_position(label: pygame.Surface, screen: tuple[int, int]) -> tuple[int, int]:
    """Bottom-left, inset by a margin relative to the screen height."""
    margin = max(6, round(screen[1] * 0.035))
    return margin, screen[1] - margin - label.get_height()


def render_invitation(text: str, screen: tuple[int, int]) -> pygame.Surface | None:
    """The attract invitation: large, with a soft shadow so it reads on any painting."""
    text = printable(text, 120).replace("\n", " ")
    if not text.strip():
        return None
    font = _font(round(screen[1] * 0.075))
    face = font.render(text, True, WHITE)
    shadow = font.render(text, True, (0, 0, 0))
    off = max(2, round(screen[1] * 0.004))
    pad = off * 6
    out = pygame.Surface((face.get_width() + 2 * pad, face.get_height() + 2 * pad), pygame.SRCALPHA)
    pygame.draw.rect(out, (0, 0, 0, 120), out.get_rect(), border_radius=pad)
    out.blit(shadow, (pad + off, pad + off))
    out.blit(face, (pad, pad))
    if out.get_width() > screen[0] * 0.9:  # a long invitation shrinks to fit the wall
        scale = screen[0] * 0.9 / out.get_width()
        out = pygame.transform.smoothscale(
            out, (round(out.get_width() * scale), max(1, round(out.get_height() * scale)))
        )
    return out


def render_note(text: str, screen: tuple[int, int]) -> pygame.Surface:
    """A small quiet note for the operator (rehearsal: the faces typed so far)."""
    font = _font(round(screen[1] * 0.03))
    face = font.render(printable(text, 120).replace("\n", " "), True, TEXT)
    pad = max(3, face.get_height() // 4)
    size = (face.get_width() + 2 * pad, face.get_height() + 2 * pad)
    note = pygame.Surface(size, pygame.SRCALPHA)
    pygame.draw.rect(note, BAND, note.get_rect(), border_radius=pad)
    note.blit(face, (pad, pad))
    return note


def _wrap(text: str, font: pygame.font.Font, width: int) -> list[str]:
    """Greedy word wrap; one overlong word stays on its own line."""
    lines: list[str] = []
    for para in text.splitlines() or [""]:
        line = ""
        for word in para.split(" "):
            trial = f"{line} {word}" if line else word
            if line and font.size(trial)[0] > width:
                lines.append(line)
                line = word
            else:
                line = trial
        lines.append(line)
    return lines


def render_overlay(text: str, screen: tuple[int, int], max_lines: int = 14) -> pygame.Surface:
    """A readable error panel across the top: dark red band, white wrapped text."""
    width, height = screen
    pad = max(6, round(height * 0.02))
    font = _font(round(height * 0.032))
    lines = _wrap(printable(text, 5000), font, width - 4 * pad)
    if len(lines) > max_lines:
        hidden = len(lines) - (max_lines - 1)
        lines = [*lines[: max_lines - 1], f"... and {hidden} more line(s)"]
    rendered = [font.render(line, True, WHITE) for line in lines]
    panel_h = sum(r.get_height() for r in rendered) + 2 * pad
    panel = pygame.Surface((width - 2 * pad, panel_h), pygame.SRCALPHA)
    pygame.draw.rect(panel, (110, 10, 10, 225), panel.get_rect(), border_radius=pad)
    y = pad
    for r in rendered:
        panel.blit(r, (pad, y))
        y += r.get_height()
    return panel
