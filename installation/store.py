"""Small persistent state (the fresh-mode throw count), written atomically.

A power cut may come at any moment: write to a temp file in the same folder,
fsync, then os.replace, so the file is always either the old or the new value.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class StateStore:
    """A JSON dict on disk. Unreadable state is logged and treated as empty, never fatal."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text("utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as e:
            log.error("state file %s is unreadable (%s); starting from empty state", self.path, e)
            return {}
        return data if isinstance(data, dict) else {}

    def save(self, data: dict[str, Any]) -> None:
        write_atomic(self.path, json.dumps(data, sort_keys=True, indent=1).encode("utf-8"))

    def progress(self) -> tuple[int, dict[str, int]]:
        """Fresh mode: the show's throw count and how often each outcome was thrown."""
        data = self.load()
        count = data.get("throw_count", 0)
        repeats = data.get("outcome_repeats", {})
        if not isinstance(count, int) or count < 0:
            count = 0
        if not isinstance(repeats, dict):
            repeats = {}
        clean = {str(k): v for k, v in repeats.items() if isinstance(v, int) and v >= 0}
        return count, clean

    def save_progress(self, count: int, repeats: dict[str, int]) -> None:
        data = self.load()
        data["throw_count"] = count
        data["outcome_repeats"] = repeats
        self.save(data)
