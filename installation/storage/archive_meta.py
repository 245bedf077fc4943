"""What an archived PNG says: the text chunks written for each shown variation, and
reading them back for the curator tools (storage/archive.py writes the files)."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from PIL import Image

from installation.core.variations import Variation

_UNSAFE = re.compile(r"[^0-9A-Za-z-]")  # what an outcome key may put in a file name
log = logging.getLogger("installation.storage.archive")

DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class ArchiveEntry:
    """One archived image and what its metadata says."""

    path: Path
    day: str
    time: str  # ISO 8601 with the UTC offset
    number: int
    key: str
    faces: tuple[int, ...]
    seed: int
    prompt: str
    meta: dict[str, str] = field(default_factory=dict, compare=False)


def metadata(
    variation: Variation, *, show: str, engine: str, describe: Mapping[str, object], when: float
) -> dict[str, str]:
    """The PNG text chunks for one archived variation."""
    from installation import __version__

    d = {str(k): str(v) for k, v in describe.items()}
    p = variation.params
    versions = {k: d[k] for k in ("diffusers", "torch", "transformers", "numpy") if k in d}
    text = {
        "show": show,
        "number": str(variation.number),
        "faces": " ".join(str(f) for f in variation.faces),
        "key": variation.key,
        "seed": str(variation.seed),
        "reroll": str(variation.reroll),
        "prompt": variation.prompt,
        "negative_prompt": variation.negative_prompt,
        "steps": str(p.steps),
        "strength": repr(p.strength),
        "guidance": repr(p.guidance),
        "size": f"{p.width}x{p.height}",
        "painting": str(variation.painting),
        "engine": engine or d.get("engine", ""),
        "model": d.get("model", d.get("algorithm", "")),
        "fingerprint": d.get("fingerprint", ""),
        "versions": ", ".join(f"{k} {v}" for k, v in versions.items()),
        "time": datetime.fromtimestamp(when).astimezone().isoformat(timespec="seconds"),
        "Software": f"installation {__version__}",
    }
    text |= {f"engine.{k}"[:79]: v for k, v in d.items()}
    text |= {f"meta.{k}"[:79]: str(v) for k, v in variation.meta.items()}
    return text


def list_archive(
    root: Path, day: str | date | None = None, faces: str | tuple[int, ...] | None = None
) -> list[ArchiveEntry]:
    """Archived images, oldest first, optionally of one day and one outcome."""
    day_name = day.isoformat() if isinstance(day, date) else day
    if day_name is not None and not DAY.match(day_name):
        raise ValueError(f"day must be YYYY-MM-DD, got {day_name!r}")
    key = faces if isinstance(faces, str) or faces is None else "-".join(map(str, faces))
    if not root.is_dir():
        return []
    folders = [root / day_name] if day_name else sorted(root.iterdir())
    out = []
    for folder in folders:
        if not DAY.match(folder.name) or not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.png")):
            entry = _entry(path)
            if entry is not None and (key is None or entry.key == key):
                out.append(entry)
    return out


def shown_id(path: Path) -> str:
    """The journal entry a PNG was made from ('' for none, or an unreadable file)."""
    try:
        with Image.open(path) as im:
            value = im.info.get("shown_id", "")
    except Exception:
        return ""
    return value if isinstance(value, str) else ""


def _entry(path: Path) -> ArchiveEntry | None:
    """An archive file's metadata (text chunks before the pixels: no decoding)."""
    try:
        with Image.open(path) as im:
            meta = {str(k): v for k, v in im.info.items() if isinstance(v, str)}
    except Exception as e:  # not ours or damaged: listed by nobody, deleted by nobody
        log.debug("archive: skipping %s: %s", path, e)
        return None

    def number(name: str) -> int:
        try:
            return int(meta.get(name, ""))
        except ValueError:
            return -1

    key = meta.get("key", "")
    faces = tuple(int(f) for f in key.split("-") if f.isdigit())
    return ArchiveEntry(
        path,
        path.parent.name,
        meta.get("time", ""),
        number("number"),
        key,
        faces,
        number("seed"),
        meta.get("prompt", ""),
        meta,
    )


def png_path(root: Path, when: float, number: int, key: str, entry_id: str) -> Path | None:
    """Where a journal entry's PNG goes in the archive at `root`: a new name, or None when a
    crash came after the PNG was written and before its entry was deleted (the PNG names
    the entry: shown_id)."""
    t = time.localtime(when)
    folder = root / time.strftime("%Y-%m-%d", t)
    stem = f"{time.strftime('%H%M%S', t)}-{number}-{_UNSAFE.sub('', key)}"
    path, n = folder / f"{stem}.png", 1
    while path.exists():  # same second, same outcome: keep both
        if shown_id(path) == entry_id:
            return None
        n += 1
        path = folder / f"{stem}-{n}.png"
    return path
