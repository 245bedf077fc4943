"""Text and marks on the wall: the wall label (dice pips, text, title/artist),
the attract invitation and the error overlay.

Everything is rendered once into a Surface when it changes; the kiosk only
blits these per frame. Sizes are relative to the screen's "unit" (its height, or for a
screen narrower than 16:9 the height a 16:9 screen of that width would have), so the
label reads the same on a 720p monitor and a 4K projector and stays in proportion on a
portrait screen. The label is laid out against the screen it is drawn on: text wraps,
an overlong word is cut with an ellipsis, and a band that is still too large is scaled
down, so it never leaves the screen at any aspect.
"""

from __future__ import annotations

import functools
import io
import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pygame

if TYPE_CHECKING:
    from installation.core.variations import Variation
    from installation.show.schema import Show

log = logging.getLogger(__name__)

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


CORNERS = ("bottom-left", "bottom-right", "top-left", "top-right")
MAIN_LINES, CREDIT_LINES = 3, 2  # wrapped lines at most; the last one ends in an ellipsis


@dataclass(frozen=True)
class LabelStyle:
    """Where the label sits and how large it is (1.0: the standard size), and an optional
    font file (TTF/OTF; None: pygame's built-in font)."""

    corner: str = "bottom-left"
    size: float = 1.0
    font: str | None = None


def unit(screen: tuple[int, int]) -> float:
    """The length label sizes are relative to: the height, but never more than a 16:9
    screen of this width would have (so portrait screens get a proportionate label)."""
    width, height = screen
    return float(min(height, width * 9 / 16))


def fill_label(
    show: Show, variation: Variation, engine: str
) -> tuple[LabelInfo | None, str | None]:
    """The show's label template filled for `variation` (None: no label), and the template's
    error if it failed (the label then falls back to number and seed)."""
    if not show.display.label and not any(s.label for s in show.screens):
        return None, None  # (each screen still decides whether it draws the label)
    fields = {
        "number": variation.number,
        "seed": variation.seed,
        "faces": " ".join(str(f) for f in variation.faces),
        "title": show.show.title,
        "artist": show.show.artist,
        "engine": engine,
    }
    try:
        text = show.display.label_template.format(**fields)
    except (KeyError, IndexError, ValueError) as e:  # the loader rejects these
        return LabelInfo(
            variation.faces, f"Variation {variation.number} · seed {variation.seed}"
        ), str(e)
    return LabelInfo(faces=variation.faces, text=text), None


def _font(px: int, italic: bool = False, path: str | None = None) -> pygame.font.Font:
    """Cached: loading the font file costs more than rendering the label. Keyed by the
    file's modification time and size too, so a font saved over in place is read again
    for the next label. A font file that cannot be loaded falls back to the built-in font
    (logged once per size and version of the file)."""
    return _loaded_font(px, italic, path, font_version(path))


MAX_FONT_BYTES = 32 * 2**20  # a font file larger than this is not a font to trust


def font_version(path: str | None) -> tuple[int, ...] | None:
    """What tells one version of a font file from the next: inode, size, modification and
    change times (a copy that keeps the modification time still changes the others)."""
    if path is None:
        return None
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


@functools.lru_cache(maxsize=4)
def _font_data(path: str, version: tuple[int, ...] | None) -> bytes:
    """A font file's bytes, once per version (every size shares them)."""
    with open(path, "rb") as f:
        data = f.read(MAX_FONT_BYTES + 1)
    if len(data) > MAX_FONT_BYTES:
        raise ValueError(f"larger than {MAX_FONT_BYTES // 2**20} MB")
    return data


@functools.lru_cache(maxsize=32)
def _loaded_font(
    px: int, italic: bool, path: str | None, version: tuple[int, ...] | None
) -> pygame.font.Font:
    """The font read whole into memory: SDL_ttf reads glyphs from its file lazily, so a
    font opened from a file that is then saved over breaks at the next glyph. pygame only
    notices a file that is no font when it first measures or draws, hence the check."""
    try:
        if path is None:
            font = pygame.font.Font(None, max(8, px))
        else:
            font = pygame.font.Font(io.BytesIO(_font_data(path, version)), max(8, px))
            font.size("Ag")
    except (OSError, ValueError, pygame.error) as e:
        if path is None:
            raise
        log.warning("label font %s cannot be loaded (%s); using the built-in font", path, e)
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
    _loaded_font.cache_clear()
    _font_data.cache_clear()


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


def _credit(info: LabelInfo | None, title: str, artist: str) -> str:
    """'title · artist', leaving out what the label text already says (a template with
    {title} or {artist} must not show them twice)."""
    text = info.text if info is not None else ""
    parts = [p for p in (title, artist) if p and p not in text]
    return printable(" · ".join(parts)).replace("\n", " ")


def _clip(text: str, font: pygame.font.Font, width: int) -> str:
    """The longest start of `text` that fits `width`, ending in an ellipsis when cut."""
    if font.size(text)[0] <= width:
        return text
    lo, hi = 0, len(text)
    while lo < hi:  # binary search: the longest prefix (plus "…") that fits
        mid = (lo + hi + 1) // 2
        if font.size(text[:mid].rstrip() + "…")[0] <= width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + "…"


def fit_lines(text: str, font: pygame.font.Font, width: int, most: int) -> list[str]:
    """`text` wrapped to `width` in at most `most` lines; what does not fit is cut with an
    ellipsis, so every line is at most `width` wide (for any width of a glyph or more)."""
    lines = _wrap(text, font, width)
    if len(lines) > most:
        lines = [*lines[: most - 1], " ".join(lines[most - 1 :])]
    return [_clip(line, font, width) for line in lines]


def render_label(
    info: LabelInfo | None,
    title: str,
    artist: str,
    screen: tuple[int, int],
    style: LabelStyle | None = None,
) -> pygame.Surface | None:
    """The wall label on a semi-transparent dark band, or None when there is nothing to say.
    It always fits inside the screen less its margin (label_margin) on every side."""
    style = style or LabelStyle()
    width, height = screen
    main_text = printable(info.text).replace("\n", " ") if info is not None and info.text else ""
    credit = _credit(info, title, artist)
    faces = info.faces if info is not None else ()
    if not main_text and not credit and not faces:
        return None
    u = unit(screen) * style.size
    margin = label_margin(screen)
    room_w, room_h = max(1, width - 2 * margin), max(1, height - 2 * margin)
    pad = max(4, round(u * 0.018))
    die = max(12, round(u * 0.06))
    gap = max(3, round(die * 0.22))
    main = _font(round(u * 0.04), False, style.font)
    soft = _font(round(u * 0.03), True, style.font)
    dice_w = len(faces) * die + max(0, len(faces) - 1) * gap
    text_room = max(die * 2, room_w - 2 * pad - dice_w - (pad if faces else 0))
    lines = [(t, True) for t in fit_lines(main_text, main, text_room, MAIN_LINES) if main_text]
    lines += [(t, False) for t in fit_lines(credit, soft, text_room, CREDIT_LINES) if credit]
    texts = [
        (main if is_main else soft).render(t, True, TEXT if is_main else SOFT)
        for t, is_main in lines
    ]
    text_w = max((t.get_width() for t in texts), default=0)
    text_h = sum(t.get_height() for t in texts)
    band_w = dice_w + (pad if faces and texts else 0) + text_w + 2 * pad
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
    scale = min(1.0, room_w / band_w, room_h / band_h)
    if scale < 1.0:  # a very narrow or very low screen: the whole band shrinks to fit
        size = (max(1, int(band_w * scale)), max(1, int(band_h * scale)))
        band = pygame.transform.smoothscale(band, size)
    return band


def label_margin(screen: tuple[int, int]) -> int:
    """The label's distance from the screen's edges."""
    return max(6, round(unit(screen) * 0.035))


def label_position(
    label: pygame.Surface, screen: tuple[int, int], corner: str = "bottom-left"
) -> tuple[int, int]:
    """The label's top-left corner: in `corner`, inset by the margin."""
    margin = label_margin(screen)
    right = screen[0] - margin - label.get_width()
    bottom = screen[1] - margin - label.get_height()
    x = right if corner.endswith("right") else margin
    y = margin if corner.startswith("top") else bottom
    return x, y


def render_invitation(text: str, screen: tuple[int, int]) -> pygame.Surface | None:
    """The attract invitation: large, with a soft shadow so it reads on any painting."""
    text = printable(text, 120).replace("\n", " ")
    if not text.strip():
        return None
    font = _font(round(unit(screen) * 0.075))
    face = font.render(text, True, WHITE)
    shadow = font.render(text, True, (0, 0, 0))
    off = max(2, round(unit(screen) * 0.004))
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
    font = _font(round(unit(screen) * 0.03))
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
