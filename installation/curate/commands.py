"""CLI for the curator tools: preview, sheet, new-show, archive. Thin: parse, then hand over."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from installation.errors import CurateError, OutputPathError, ShowError


def register(sub: Any) -> None:
    """Add preview, sheet, new-show and archive to the CLI's subparsers."""
    _preview(sub)
    _sheet(sub)
    _new_show(sub)
    from installation.curate.archive_cmd import register as register_archive

    register_archive(sub)


def _preview(sub: Any) -> None:
    from installation.curate.preview import run_preview

    p = sub.add_parser(
        "preview",
        help="render one throw exactly as the wall would show it",
        description="Render the variation for one throw (same seed, prompt, engine and size "
        "as the kiosk) and save it as a PNG with how it was made in its metadata.",
    )
    p.add_argument("show", help="show folder (or its show.toml)")
    p.add_argument("--dice", required=True, metavar="FACES", help="faces, die 1 first: 3,5")
    p.add_argument("-o", "--output", metavar="PNG", help="file to write (default: ./preview-…)")
    p.add_argument("--parents", action="store_true", help="create -o's missing folders")
    p.add_argument("--repeat", type=int, metavar="N", help="fresh seeds: this outcome's Nth throw")
    p.add_argument("--no-cache", action="store_true", help="render even if the cache has it")
    p.add_argument(
        "--screen",
        metavar="WxH",
        help="write what a screen of this size shows (fit, background, label); "
        "default: the bare generated image",
    )
    p.set_defaults(func=run_preview)


def _sheet(sub: Any) -> None:
    p = sub.add_parser(
        "sheet",
        help="contact sheet of every outcome, labelled",
        description="Render every outcome of the show onto one labelled page, filling the "
        "cache as it goes (while a kiosk runs, only reading it). Above --sample outcomes a "
        "stated, repeatable sample is drawn.",
    )
    p.add_argument("show", help="show folder (or its show.toml)")
    p.add_argument("-o", "--output", required=True, metavar="PNG", help="sheet file to write")
    p.add_argument("--parents", action="store_true", help="create -o's missing folders")
    p.add_argument("--sample", type=int, default=216, metavar="N", help="most tiles (216)")
    p.add_argument("--tile", type=int, default=256, metavar="PX", help="tile width (256)")
    p.add_argument("--no-cache", action="store_true", help="do not read or fill the cache")
    p.set_defaults(func=run_sheet)


def run_sheet(args: argparse.Namespace) -> int:
    from installation.curate.preview import ShowRenderer, claim_cache
    from installation.curate.sheet import make_sheet
    from installation.show.load import load_show
    from installation.storage.outputs import checked_output

    if not 32 <= args.tile <= 2048:
        print(f"sheet: --tile must be 32..2048 pixels, got {args.tile}", file=sys.stderr)
        return 2
    try:
        show = load_show(args.show)
        out = checked_output(args.output, parents=args.parents)  # before any rendering
        with claim_cache(show, "sheet", not args.no_cache) as fill:
            renderer = ShowRenderer(show, use_cache=not args.no_cache, fill_cache=fill)
            result = make_sheet(
                show, out, sample=args.sample, tile_width=args.tile, renderer=renderer
            )
    except ShowError as e:
        print(e, file=sys.stderr)
        return 2
    except (CurateError, OutputPathError, OSError) as e:
        print(f"sheet: {e}", file=sys.stderr)
        return 2
    what = "all" if result.shown == result.total else f"a sample of {result.shown} of"
    print(
        f"{result.path}: {what} {result.total} outcomes, {result.cols}x{result.rows} tiles, "
        f"{result.rendered} rendered, {result.shown - result.rendered - result.failed} cached"
        + (f", {result.failed} not shown (see labels)" if result.failed else "")
    )
    return 1 if result.failed else 0


def _new_show(sub: Any) -> None:
    from installation.curate.newshow import run_new_show

    p = sub.add_parser(
        "new-show",
        help="start a new show folder from the commented template",
        description="Create SHOWS_DIR/NAME/ with a commented show.toml that validates and a "
        "placeholder painting. Never overwrites an existing folder.",
    )
    p.add_argument("name", help="folder name: letters, digits, - and _")
    p.add_argument("--dir", default="shows", help="where shows live (default: shows)")
    p.set_defaults(func=run_new_show)
