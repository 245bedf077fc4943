"""A folder listing during which the first PNG is deleted (by another process, a show
reload's old cache thread, a curator): for tests of scans that must not stop part-way."""

from __future__ import annotations

import os
from typing import Any

import pytest


def vanish_first_png(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Patch os.scandir; returns the list that receives the name of the deleted file.
    Undo with monkeypatch.undo()."""
    real_scandir, gone = os.scandir, []

    class Vanishing:
        def __init__(self, path: Any) -> None:
            self.it = real_scandir(path)

        def __enter__(self) -> Vanishing:
            return self

        def __exit__(self, *exc: object) -> None:
            self.it.close()

        def __iter__(self) -> Any:
            for entry in self.it:
                if entry.name.endswith(".png") and not gone:
                    os.unlink(entry.path)  # deleted between the listing and its stat
                    gone.append(entry.name)
                yield entry

    monkeypatch.setattr(os, "scandir", Vanishing)
    return gone
