"""The archive as the console sees it: days, entries, thumbnails, pick and export.

Listing, picking and the provenance sidecar are `installation archive`'s own functions
(curate/archive_cmd.py); export runs `installation archive SHOW export` as a child process,
so a model is never loaded into the kiosk's process. Names from a URL are checked against
strict patterns and resolved inside the archive: anything else is "not found".
"""

from __future__ import annotations

import io
import logging
import re
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

from PIL import Image

from installation.curate import archive_cmd
from installation.show.schema import Show
from installation.storage.inside import remove_file

log = logging.getLogger("installation.web")

DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FILE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z-]{0,150}\.png$")
THUMB_PX = 360
THUMBS_KEPT = 256
EXPORT_TIMEOUT_S = 1800.0


def inside(root: Path, *parts: str) -> Path | None:
    """root/parts when it is a file inside root (no '..', no link out), else None."""
    try:
        base = root.resolve()
        path = base.joinpath(*parts).resolve()
    except (OSError, ValueError):
        return None
    return path if path.is_relative_to(base) and path.is_file() else None


class ArchiveView:
    def __init__(self, show: Show) -> None:
        self.show = show
        self.root = show.storage_dir / "archive"
        self.selection = show.storage_dir / "selection"
        self.exports = self.selection / "export"
        self._thumbs: OrderedDict[tuple[str, int], bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.job: dict[str, Any] = {}  # the last export: file, state, output

    # -- reading -----------------------------------------------------------------------
    def days(self) -> list[str]:
        try:
            return sorted((d.name for d in self.root.iterdir() if DAY.match(d.name)), reverse=True)
        except OSError:
            return []

    def entries(self, day: str | None, faces: str | None) -> list[Any]:
        """Oldest first, as `archive list` numbers them. Raises CurateError for bad filters."""
        return archive_cmd.entries(self.show, day, faces or None)

    def find(self, day: str, name: str) -> Any | None:
        if not DAY.match(day) or not FILE.match(name):
            return None
        path = inside(self.root, day, name)
        if path is None:
            return None
        found = [e for e in archive_cmd.entries(self.show, day) if e.path.name == name]
        return found[0] if found else None

    def latest(self) -> Path | None:
        """The newest archived picture: what the wall shows (or showed last)."""
        for day in self.days():
            pngs = sorted(p for p in (self.root / day).glob("*.png") if FILE.match(p.name))
            if pngs:
                return pngs[-1]
        return None

    def provenance(self, entry: Any) -> dict[str, Any]:
        return archive_cmd.sidecar(entry, picked_at="")

    def thumb(self, path: Path, px: int = THUMB_PX) -> bytes:
        """A small JPEG of an archived PNG, kept in memory (the newest few hundred)."""
        stat = path.stat()
        key = (str(path), stat.st_mtime_ns + px)
        with self._lock:
            if key in self._thumbs:
                self._thumbs.move_to_end(key)
                return self._thumbs[key]
        with Image.open(path) as im:
            im.draft("RGB", (px, px))
            small = im.convert("RGB")
            small.thumbnail((px, px))
            out = io.BytesIO()
            small.save(out, "JPEG", quality=80)
        data = out.getvalue()
        with self._lock:
            self._thumbs[key] = data
            while len(self._thumbs) > THUMBS_KEPT:
                self._thumbs.popitem(last=False)
        return data

    # -- the artist's actions -------------------------------------------------------------
    def pick(self, entry: Any) -> Path:
        """The same copy and provenance sidecar as `installation archive SHOW pick`."""
        return archive_cmd.pick([entry], self.selection)[0]

    def export(self, entry: Any, size: str) -> bool:
        """Export one variation at print size in the background; False when one runs."""
        archive_cmd.parse_size(size)  # CurateError for a bad size, before anything starts
        with self._lock:
            if self.job.get("state") == "running":
                return False
            self.job = {"file": entry.path.name, "size": size, "state": "running", "output": ""}
        threading.Thread(
            target=self._export, args=(entry, size), name="web-export", daemon=True
        ).start()
        return True

    def _export(self, entry: Any, size: str) -> None:
        one = self.selection / ".console-export" / entry.path.stem
        started = time.monotonic()
        try:
            for old in one.glob("*") if one.is_dir() else []:
                remove_file(self.show.storage_dir, old)  # never via a link (an OSError)
            archive_cmd.pick([entry], one)
            cmd = [
                sys.executable,
                "-m",
                "installation",
                "archive",
                str(self.show.folder),
                "export",
                "--from",
                str(one),
                "--to",
                str(self.exports),
                "--size",
                size,
            ]
            done = subprocess.run(
                cmd, capture_output=True, text=True, timeout=EXPORT_TIMEOUT_S, check=False
            )
            state = "done" if done.returncode == 0 else "failed"
            output = (done.stdout + done.stderr).strip()[-2000:]
        except (OSError, subprocess.SubprocessError) as e:
            state, output = "failed", str(e)
        log.info(
            "web: export of %s at %s %s in %.1f s",
            entry.path.name,
            size,
            state,
            time.monotonic() - started,
        )
        with self._lock:
            self.job = {**self.job, "state": state, "output": output}

    def exported(self) -> list[str]:
        try:
            return sorted(p.name for p in self.exports.glob("*.png") if FILE.match(p.name))
        except OSError:
            return []
