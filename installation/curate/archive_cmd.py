"""`installation archive SHOW list|pick|export|sheet`: the artist's way into the archive.

The archive (storage/archive.py) keeps every shown variation as a PNG whose text chunks
say how it was made. `pick` copies chosen ones into a selection folder, each with a JSON
sidecar (throw, seed, prompt, model fingerprint, parameters, time). `export` renders the
selection again larger for print with the same seed, or, when that would not be the same
picture (the fallback engine, a changed model, a failed render), exports the original and
says why. `sheet` lays out one day's wall as a contact sheet.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from installation.core.variations import RenderParams, Variation
from installation.errors import CurateError, ShowError
from installation.show.schema import Show

SIDECAR = ".json"
_SIZE = re.compile(r"^(\d+)[xX](\d+)$")


def entries(show: Show, day: str | None = None, faces: str | None = None) -> list[Any]:
    """Archive entries, oldest first, filtered like `archive list`."""
    from installation.storage.archive import archive_for

    key = None
    if faces:
        from installation.curate.preview import parse_faces

        key = "-".join(map(str, parse_faces(faces, show.dice.count, show.dice.faces)))
    if day is not None:
        try:
            dt.date.fromisoformat(day)
        except ValueError:
            raise CurateError(f"--day {day!r}: expected a date as YYYY-MM-DD") from None
    return list(archive_for(show).list(day=day, faces=key))


def list_lines(found: Sequence[Any]) -> list[str]:
    """One line per entry: the # used by `pick`, when, faces, number, seed, prompt."""
    lines = []
    for i, e in enumerate(found, start=1):
        when = e.time[11:19] if len(e.time) >= 19 else e.time
        lines.append(
            f"{i:>4}  {e.day} {when}  {e.key:<7} #{e.number:<5} seed {e.seed:<10} {e.prompt}"
        )
    return lines


def select(found: Sequence[Any], picks: Sequence[str]) -> list[Any]:
    """Entries by # (as `list` numbers them with the same filters) or by file name."""
    chosen = []
    by_name = {e.path.name: e for e in found} | {e.path.stem: e for e in found}
    for p in picks:
        if p.isdigit() and 1 <= int(p) <= len(found):
            chosen.append(found[int(p) - 1])
        elif p in by_name or Path(p).name in by_name:
            chosen.append(by_name.get(p) or by_name[Path(p).name])
        else:
            raise CurateError(
                f"pick {p!r}: not in the list; use a # from `archive list` (1..{len(found)}, "
                "with the same --day/--faces) or an archive file name"
            )
    return chosen


def sidecar(entry: Any, picked_at: str) -> dict[str, Any]:
    """Provenance of one archived picture, from its PNG text chunks."""
    m = dict(entry.meta)
    engine_info = {k[len("engine.") :]: v for k, v in m.items() if k.startswith("engine.")}
    return {
        "throw": list(entry.faces),
        "key": entry.key,
        "number": entry.number,
        "seed": entry.seed,
        "reroll": _int(m.get("reroll", "0")),
        "prompt": entry.prompt,
        "negative_prompt": m.get("negative_prompt", ""),
        "model": m.get("model", ""),
        "fingerprint": m.get("fingerprint", ""),
        "engine": m.get("engine", ""),
        "engine_info": engine_info,
        "versions": m.get("versions", ""),
        "parameters": {
            "steps": _int(m.get("steps", "0")),
            "strength": _float(m.get("strength", "0")),
            "guidance": _float(m.get("guidance", "0")),
            "size": m.get("size", ""),
            "painting": _int(m.get("painting", "0")),
        },
        "show": m.get("show", ""),
        "shown_at": entry.time,
        "picked_at": picked_at,
        "archive_file": str(entry.path),
    }


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 0


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0


def pick(chosen: Sequence[Any], to: Path, *, parents: bool = True) -> list[Path]:
    """Copy entries (PNG with its metadata) into `to`, each with a JSON sidecar.

    `to` is an output folder (storage/outputs.py): never a link; its own missing parents
    are made only with parents=True. Each copy replaces only a regular file."""
    from installation.storage.atomic import write_atomic
    from installation.storage.outputs import checked_output_dir

    checked_output_dir(to, parents=parents)
    now = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    out = []
    for e in chosen:
        target = to / e.path.name
        with open(e.path, "rb") as source:
            write_atomic(target, lambda f: shutil.copyfileobj(source, f), output=True)
        st = e.path.stat()
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))  # as copy2 did
        text = json.dumps(sidecar(e, now), indent=1, ensure_ascii=False) + "\n"
        write_atomic(target.with_suffix(SIDECAR), text.encode("utf-8"), output=True)
        out.append(target)
    return out


def parse_size(text: str) -> tuple[int, int]:
    """'2048x2048' -> (2048, 2048); multiples of 8 from 64 to 4096, as the models need."""
    m = _SIZE.match(text.strip())
    size = (int(m.group(1)), int(m.group(2))) if m else None
    if size is None or any(not 64 <= v <= 4096 or v % 8 for v in size):
        raise CurateError(
            f"--size {text!r}: expected WIDTHxHEIGHT, each a multiple of 8 from 64 to 4096, "
            "e.g. 1536x1536"
        )
    return size


def variation_from(record: dict[str, Any], size: tuple[int, int]) -> Variation:
    """The recorded variation again, at another size (same seed, prompt and parameters)."""
    p = record["parameters"]
    params = RenderParams(p["strength"], p["steps"], p["guidance"], size[0], size[1])
    return Variation(
        faces=tuple(record["throw"]),
        key=record["key"],
        number=record["number"],
        seed=record["seed"],
        prompt=record["prompt"],
        negative_prompt=record["negative_prompt"],
        params=params,
        reroll=record.get("reroll", 0),
        painting=p.get("painting", 0),
    )


def why_not_rerender(record: dict[str, Any], engine_info: dict[str, str]) -> str | None:
    """Why re-rendering would not give the same picture larger, or None when it can."""
    made = record.get("engine", "")
    if engine_info.get("engine") != "diffusers" or made != "diffusers":
        return (
            f"made by the {made or 'unknown'} engine, now {engine_info.get('engine')}: only the "
            "diffusers model re-renders a seed at another size; this is the original"
        )
    if record.get("fingerprint") != engine_info.get("fingerprint", ""):
        return (
            f"the model changed since (was {record.get('fingerprint') or 'unknown'}, now "
            f"{engine_info.get('fingerprint') or 'unknown'}); this is the original"
        )
    return None


def export(
    selection: Path, size: tuple[int, int], renderer: Any, out: Path, *, parents: bool = True
) -> list[dict[str, Any]]:
    """Export every picked picture at `size` into `out` (an output folder, as in pick);
    returns how each was made."""
    from installation.engines.images import load_rgb
    from installation.storage.atomic import write_atomic
    from installation.storage.outputs import checked_output_dir
    from installation.storage.png import save_png

    checked_output_dir(out, parents=parents)
    info = renderer.describe()
    made = []
    for meta_file in sorted(selection.glob(f"*{SIDECAR}")):
        record = json.loads(meta_file.read_text("utf-8"))
        source = meta_file.with_suffix(".png")
        note = why_not_rerender(record, info)
        how: dict[str, Any] = {"source": str(source), "requested_size": f"{size[0]}x{size[1]}"}
        image = None
        if note is None:
            try:
                variation = variation_from(record, size)
                image = renderer.engine.render(variation)
                how |= {"method": "re-rendered", "engine_info": info, "seed": variation.seed}
                how["note"] = "same seed, prompt and parameters at a larger size; the "
                how["note"] += "composition can differ from the original"
            except Exception as e:  # the model cannot do that size (memory, shape ...)
                note = f"re-render at {size[0]}x{size[1]} failed ({e}); this is the original"
        if image is None:
            image = load_rgb(source)
            how |= {"method": "original", "note": note}
        target = out / f"{source.stem}-{image.shape[1]}x{image.shape[0]}.png"
        how |= {"file": str(target), "size": f"{image.shape[1]}x{image.shape[0]}"}
        how["made"] = record
        save_png(image, target, {"provenance": json.dumps(how, ensure_ascii=False)}, output=True)
        text = json.dumps(how, indent=1) + "\n"
        write_atomic(target.with_suffix(SIDECAR), text.encode("utf-8"), output=True)
        made.append(how)
    return made


def day_sheet(show: Show, day: str, out: Path, sample: int = 216, tile: int = 256) -> str:
    """A contact sheet of one day's wall, in the order shown; returns what it holds."""
    from installation.curate.sheet import Tile, compose
    from installation.engines.images import load_rgb
    from installation.storage.png import save_png

    found = entries(show, day=day)
    if not found:
        raise CurateError(f"the archive has nothing for {day}; see `archive SHOW list`")
    picked = found
    if len(found) > sample:  # evenly through the day, first and last included
        step = (len(found) - 1) / max(1, sample - 1)
        picked = [found[round(i * step)] for i in range(sample)]
    tiles = []
    for e in picked:
        when = e.time[11:19] if len(e.time) >= 19 else e.time
        lines = [f"{when}  {e.key}  #{e.number}", f"seed {e.seed}", e.prompt]
        try:
            tiles.append(Tile(load_rgb(e.path), lines, e.key))
        except Exception as err:
            tiles.append(Tile(None, [*lines, f"unreadable: {err}"], e.key))
    what = f"all {len(found)} shown" if picked is found else f"sample of {sample} of {len(found)}"
    header = [f"{show.show.name} - the wall on {day}", f"{what} variations, in order"]
    save_png(_array(compose(tiles, header, tile)), out, {"header": header[1]}, output=True)
    return header[1]


def _array(image: Any) -> Any:
    import numpy as np

    return np.asarray(image)


def register(sub: Any) -> None:
    """`archive SHOW list|pick|export|sheet`."""
    p = sub.add_parser(
        "archive",
        help="list, pick, export and lay out archived variations",
        description="Browse the archive of shown variations, copy chosen ones into a "
        "selection with their provenance, export them for print, or make a day's sheet.",
    )
    p.add_argument("show", help="show folder (or its show.toml)")
    acts = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    ls = acts.add_parser("list", help="list archived variations (# is used by pick)")
    pk = acts.add_parser("pick", help="copy chosen variations into a selection folder")
    pk.add_argument("picks", nargs="+", metavar="N", help="# from list, or a file name")
    for q in (ls, pk):
        q.add_argument("--day", metavar="YYYY-MM-DD", help="only this day")
        q.add_argument("--faces", metavar="FACES", help="only this throw, e.g. 3,5")
    pk.add_argument("--to", metavar="DIR", help="selection folder (default <storage>/selection)")
    ex = acts.add_parser("export", help="the selection again, larger, for print")
    ex.add_argument("--size", default="2048x2048", metavar="WxH", help="print size (2048x2048)")
    ex.add_argument("--from", dest="source", metavar="DIR", help="selection folder")
    ex.add_argument("--to", metavar="DIR", help="output folder (default <selection>/export)")
    sh = acts.add_parser("sheet", help="contact sheet of one day's wall")
    sh.add_argument("--day", required=True, metavar="YYYY-MM-DD", help="the day")
    sh.add_argument("-o", "--output", required=True, metavar="PNG", help="sheet file")
    sh.add_argument("--sample", type=int, default=216, metavar="N", help="most tiles (216)")
    for q, what in ((pk, "--to"), (ex, "--to"), (sh, "-o")):
        q.add_argument("--parents", action="store_true", help=f"create {what}'s missing folders")
    p.set_defaults(func=run_archive)


def run_archive(args: argparse.Namespace) -> int:
    from installation.show.load import load_show

    try:
        show = load_show(args.show)
        return _ACTIONS[args.action](show, args)
    except ShowError as e:
        print(e, file=sys.stderr)
    except (CurateError, ValueError, OSError) as e:
        print(f"archive {args.action}: {e}", file=sys.stderr)
    return 2


def _list(show: Show, args: argparse.Namespace) -> int:
    found = entries(show, args.day, args.faces)
    for line in list_lines(found):
        print(line)
    print(f"{len(found)} archived variation(s)", file=sys.stderr)
    return 0


def _pick(show: Show, args: argparse.Namespace) -> int:
    chosen = select(entries(show, args.day, args.faces), args.picks)
    to = Path(args.to) if args.to else show.storage_dir / "selection"
    for path in pick(chosen, to, parents=args.parents or not args.to):  # storage is ours
        print(f"picked {path} (+ {path.with_suffix(SIDECAR).name})")
    return 0


def _export(show: Show, args: argparse.Namespace) -> int:
    from installation.curate.preview import ShowRenderer

    size = parse_size(args.size)
    selection = Path(args.source) if args.source else show.storage_dir / "selection"
    if not any(selection.glob(f"*{SIDECAR}")):
        raise CurateError(f"nothing picked in {selection}; use `archive SHOW pick N` first")
    renderer = ShowRenderer(show, use_cache=False)
    out = Path(args.to) if args.to else selection / "export"
    for how in export(selection, size, renderer, out, parents=args.parents or not args.to):
        print(f"{how['file']}: {how['method']}" + (f" ({how['note']})" if how.get("note") else ""))
    return 0


def _sheet(show: Show, args: argparse.Namespace) -> int:
    from installation.storage.outputs import checked_output

    out = checked_output(args.output, parents=args.parents)  # before any work
    print(f"{out}: {day_sheet(show, args.day, out, args.sample)}")
    return 0


_ACTIONS = {"list": _list, "pick": _pick, "export": _export, "sheet": _sheet}
