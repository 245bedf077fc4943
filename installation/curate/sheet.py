"""Contact sheets: every outcome of a show (or a stated sample) on one labelled page.

Labels are drawn with Pillow's default font (ImageFont.load_default, a scalable FreeType
font since Pillow 10.1): it needs no display or SDL, draws straight into the PNG we save,
and is the font painter.placeholder already uses. The layout is written into the PNG as a
"sheet" JSON text chunk (tile positions and labels), so a sheet can be read back by tools.

Memory is bounded by the sheet, not the show: above `sample` outcomes a seeded sample
of indices is drawn (random.sample on a range never lists the range, so 8 dice of 100
faces cost what 3 of 6 do), each picture is shrunk to its tile as soon as it is
rendered, and the page itself is capped at MAX_SHEET_PIXELS.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from installation.core.dice import outcome_at, outcome_count
from installation.core.variations import Variation
from installation.curate.preview import ShowRenderer, director_for
from installation.errors import CurateError
from installation.progress import ProgressBar
from installation.show.notes import SHEET_SAMPLE
from installation.show.schema import Show, variation_rule

MAX_TILES = SHEET_SAMPLE  # three six-sided dice: above this a sheet shows a sample
MAX_SHEET_PIXELS = 64 * 2**20  # the page's tiles: 192 MB as RGB (216 tiles of 512 px fit)
PAD = 8
BACKGROUND = (24, 24, 24)
INK = (235, 230, 220)
FAINT = (150, 146, 140)


@dataclass
class Tile:
    """One picture on the sheet with its label lines (first line is the heading)."""

    image: np.ndarray | None  # None: nothing to show (blocked, failed); the label says why
    lines: list[str]
    key: str = ""
    info: dict[str, Any] = field(default_factory=dict)


faces_at = outcome_at  # the outcome at a mixed-radix index (kept under the sheet's name)


def choose_outcomes(
    dice: int, faces: int, sample: int = MAX_TILES, salt: str = ""
) -> tuple[list[tuple[int, ...]], int]:
    """(outcomes to draw, total outcomes). Above `sample`, a deterministic sample in order:
    `sample` distinct indices drawn by random.Random("<salt>|sheet"), sorted. It costs
    O(sample) time and memory whatever the total (the range is never listed)."""
    if sample < 1:
        raise CurateError(f"--sample must be 1 or more, got {sample}")
    total = outcome_count(dice, faces)
    if total <= sample:
        return [faces_at(i, dice, faces) for i in range(total)], total
    picked = sorted(random.Random(f"{salt}|sheet").sample(range(total), sample))
    return [faces_at(i, dice, faces) for i in picked], total


def grid(n: int) -> tuple[int, int]:
    """(columns, rows) for n tiles: as square as possible, wider than tall."""
    if n < 1:
        return 0, 0
    cols = math.ceil(math.sqrt(n))
    return cols, math.ceil(n / cols)


def tile_lines(show: Show, variation: Variation) -> list[str]:
    """Label of one tile: faces, number and seed; then the variant each die chose."""
    head = f"{variation.key}  #{variation.number}  seed {variation.seed}"
    if variation.reroll:
        head += f"  (re-roll {variation.reroll})"
    variants = show.variations.variants
    lines = [head]
    for die, face in enumerate(variation.faces, start=1):
        if die <= len(variants) and face <= len(variants[die - 1]):
            lines.append(f"{die}: {variants[die - 1][face - 1]}")
    if len(lines) == 1:
        lines.append(variation.prompt)
    return lines


def check_size(tiles: int, tile_width: int, aspect: float) -> None:
    """CurateError when `tiles` tiles of this width would make a page over MAX_SHEET_PIXELS."""
    pixels = tiles * tile_width * max(1, round(tile_width * aspect))
    if pixels > MAX_SHEET_PIXELS:
        raise CurateError(
            f"a sheet of {tiles} tiles {tile_width} px wide has {pixels / 2**20:.0f} Mpx of "
            f"pictures; at most {MAX_SHEET_PIXELS // 2**20} Mpx: lower --sample or --tile"
        )


def render_tiles(
    show: Show,
    outcomes: Sequence[tuple[int, ...]],
    renderer: ShowRenderer,
    progress: ProgressBar | None = None,
    tile_width: int | None = None,
) -> list[Tile]:
    """One tile per outcome, as the kiosk would show it; a failure becomes a labelled gap.
    With `tile_width`, each picture is shrunk to the tile at once (only thumbnails stay)."""
    director = director_for(show)
    tiles = []
    for done, faces in enumerate(outcomes, start=1):
        tile = _tile(show, director, faces, renderer)
        if tile_width is not None and tile.image is not None:
            tile.image = _thumbnail(tile.image, tile_width)
        tiles.append(tile)
        if progress is not None:
            progress.update(done)
    return tiles


def _tile(show: Show, director: Any, faces: tuple[int, ...], r: ShowRenderer) -> Tile:
    variation = director.next_variation(faces)
    try:
        result = r.render(variation)
    except Exception as e:  # one bad outcome must not lose the whole sheet
        lines = [*tile_lines(show, variation), f"not shown: {e}"]
        return Tile(None, lines, variation.key, {"error": str(e)})
    v = result.variation
    info = {"seed": v.seed, "number": v.number, "cached": result.cached}
    return Tile(result.image, tile_lines(show, v), v.key, info)


def _thumbnail(image: np.ndarray, tile_width: int) -> np.ndarray:
    """The picture at the size compose draws it (the same resize compose would make)."""
    h, w = image.shape[:2]
    size = (tile_width, max(1, round(tile_width * h / w)))
    if (w, h) == size:
        return image
    return np.asarray(Image.fromarray(image, "RGB").resize(size, Image.Resampling.LANCZOS))


def compose(tiles: Sequence[Tile], header: Sequence[str], tile_width: int = 256) -> Image.Image:
    """The sheet: a header, then tiles in rows, each picture with its label beneath."""
    cols, rows = grid(len(tiles))
    aspect = _aspect(tiles)
    tw, th = tile_width, max(1, round(tile_width * aspect))
    font = ImageFont.load_default(size=max(9, tile_width // 20))
    head_font = ImageFont.load_default(size=max(12, tile_width // 12))
    line_h = _line_height(font)
    label_lines = max((len(t.lines) for t in tiles), default=1)
    cell_h = th + PAD // 2 + label_lines * line_h + PAD
    head_h = PAD + len(header) * _line_height(head_font) + PAD
    sheet = Image.new(
        "RGB", (PAD + max(cols, 1) * (tw + PAD), head_h + max(rows, 1) * cell_h), BACKGROUND
    )
    draw = ImageDraw.Draw(sheet)
    y = PAD
    for text in header:
        draw.text((PAD, y), text, font=head_font, fill=INK)
        y += _line_height(head_font)
    for i, tile in enumerate(tiles):
        x, y = PAD + (i % cols) * (tw + PAD), head_h + (i // cols) * cell_h
        tile.info.update({"x": x, "y": y, "w": tw, "h": th, "label": tile.lines, "key": tile.key})
        _draw_tile(sheet, draw, tile, (x, y, tw, th), font, line_h)
    return sheet


def _aspect(tiles: Sequence[Tile]) -> float:
    for t in tiles:
        if t.image is not None:
            return t.image.shape[0] / t.image.shape[1]
    return 1.0


def _line_height(font: Any) -> int:
    box = font.getbbox("Ag")
    return int(box[3] - box[1]) + 4


def _draw_tile(
    sheet: Image.Image,
    draw: ImageDraw.ImageDraw,
    tile: Tile,
    box: tuple[int, int, int, int],
    font: Any,
    line_h: int,
) -> None:
    x, y, tw, th = box
    if tile.image is None:
        draw.rectangle([x, y, x + tw - 1, y + th - 1], outline=FAINT)
    else:
        thumb = Image.fromarray(tile.image, "RGB")
        if thumb.size != (tw, th):
            thumb = thumb.resize((tw, th), Image.Resampling.LANCZOS)
        sheet.paste(thumb, (x, y))
    ty = y + th + PAD // 2
    for n, text in enumerate(tile.lines):
        draw.text((x, ty), _fit(draw, text, font, tw), font=font, fill=INK if n == 0 else FAINT)
        ty += line_h


def _fit(draw: ImageDraw.ImageDraw, text: str, font: Any, width: int) -> str:
    """`text` shortened with an ellipsis to fit `width` pixels."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


@dataclass(frozen=True)
class SheetResult:
    path: Path
    shown: int
    total: int
    cols: int
    rows: int
    rendered: int
    failed: int


def make_sheet(
    show: Show,
    out: Path,
    *,
    sample: int = MAX_TILES,
    tile_width: int = 256,
    renderer: ShowRenderer | None = None,
    progress_stream: TextIO | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> SheetResult:
    """Render every outcome (or a stated sample), compose the sheet and save it as a PNG."""
    from installation.storage.png import save_png

    renderer = renderer or ShowRenderer(show)
    d = show.dice
    outcomes, total = choose_outcomes(d.count, d.faces, sample, show.variations.salt)
    params = variation_rule(show).params
    check_size(len(outcomes), tile_width, params.height / params.width)
    stream = progress_stream if progress_stream is not None else sys.stderr
    progress = ProgressBar(len(outcomes), stream, what="sheet", clock=clock)
    tiles = render_tiles(show, outcomes, renderer, progress, tile_width)
    progress.finish()
    header = sheet_header(show, len(outcomes), total, renderer.describe().get("engine", ""))
    image = compose(tiles, header, tile_width)
    cols, rows = grid(len(tiles))
    layout = {"total": total, "shown": len(tiles), "cols": cols, "rows": rows}
    layout["tiles"] = [t.info for t in tiles]  # type: ignore[assignment]
    text = {"Software": "installation sheet", "sheet": json.dumps(layout), "header": header[1]}
    save_png(np.asarray(image), out, text, output=True)  # `-o`: checked by the caller too
    failed = sum(1 for t in tiles if t.image is None)
    return SheetResult(out, len(tiles), total, cols, rows, renderer.rendered, failed)


def sheet_header(show: Show, shown: int, total: int, engine: str) -> list[str]:
    """Two lines: what the show is, and what the sheet holds (a sample says so)."""
    s = show.show
    title = " - ".join(x for x in (s.name, s.title, s.artist) if x)
    what = f"all {total} outcomes" if shown == total else f"sample of {shown} of {total} outcomes"
    if show.variations.seed_mode == "fresh":
        what += " (fresh seeds: each outcome as it will be thrown next)"
    today = dt.date.today().isoformat()
    return [title, f"{what} · {show.dice.count} x d{show.dice.faces} · engine {engine} · {today}"]
