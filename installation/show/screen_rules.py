"""Rules for the screens: [[screens]] tables and the label font ([display] and each screen).

Registered with show/rules.py's `rule` (the loader imports this module). A missing
display is only known on the machine that runs the show: the Wall refuses to open then,
naming the screen (display/wall.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from installation.show.path_rules import _missing, _resolve, outside_show
from installation.show.rules import _COLOUR, Issue, rule
from installation.show.schema import MAX_WINDOW, MIN_WINDOW, Show
from installation.show.schema_screens import MAX_POSITION

FONT_FILE_LIMIT = 64 * 1024 * 1024  # large CJK fonts are ~20 MiB


def font_problem(show: Show, written: Path) -> str | None:
    """Why a label font cannot be used, or None."""
    problem = outside_show(show, written)
    if problem:
        return problem
    path = _resolve(show, written)
    problem = _missing(path, "a font file")
    if problem:
        return problem
    if path.is_dir():
        return f"is a folder ({path}); expected a font file (TTF or OTF)"
    if path.stat().st_size > FONT_FILE_LIMIT:
        return f"is larger than {FONT_FILE_LIMIT // 1024 // 1024} MiB; expected a font file"
    from PIL import ImageFont

    try:
        ImageFont.truetype(str(path), 12)
    except (OSError, ValueError) as e:
        return f"is not a font file FreeType can read ({e}); use a TTF or OTF file"
    return None


@rule("display.label_font")
def display_label_font(show: Show) -> Iterator[Issue]:
    font = show.display.label_font
    if font is not None and (problem := font_problem(show, font)):
        yield ("display", "label_font"), f"label font {str(font)!r} {problem}"


@rule("screens", "display.fullscreen")
def screens(show: Show) -> Iterator[Issue]:
    """Each screen's colour, font and window; fullscreen screens need displays of their own."""
    owner: dict[int, int] = {}
    for i, entry in enumerate(show.screens):
        where = ("screens", i)
        if entry.background is not None and not _COLOUR.match(entry.background):
            yield (
                (*where, "background"),
                f"got {entry.background!r}; expected a colour as #rrggbb, e.g. '#000000'",
            )
        if entry.label_font is not None and (problem := font_problem(show, entry.label_font)):
            yield (*where, "label_font"), f"label font {str(entry.label_font)!r} {problem}"
        if entry.window is not None:
            x, y, w, h = entry.window
            if not (MIN_WINDOW <= w <= MAX_WINDOW and MIN_WINDOW <= h <= MAX_WINDOW):
                yield (
                    (*where, "window"),
                    f"got width {w}, height {h}; expected [x, y, width, height] with width and "
                    f"height from {MIN_WINDOW} to {MAX_WINDOW}, e.g. [0, 0, 960, 540]",
                )
            if not (abs(x) <= MAX_POSITION and abs(y) <= MAX_POSITION):
                yield (
                    (*where, "window"),
                    f"got x {x}, y {y}; expected positions from -{MAX_POSITION} to {MAX_POSITION}",
                )
        if show.display.fullscreen and entry.display in owner:
            first = owner[entry.display]
            yield (
                (*where, "display"),
                f"display {entry.display} is already screens[{first}]'s; fullscreen screens "
                f"need a display each (0, 1, ...). To rehearse several screens on one monitor, "
                f"set [display] fullscreen = false (or run with --window) and give each a window",
            )
        owner.setdefault(entry.display, i)
