"""A look into the outcome cache that changes nothing: for a tool that runs beside the kiosk.

The kiosk is the cache's one writer while it holds the storage lock (storage/lock.py).
Opening an OutcomeCache is itself a write (its scan deletes temp files, which may be the
kiosk's write in flight, and evicts over budget) and so are its lookups (a hit touches the
file, a rejected file is deleted). CacheReader only reads: each lookup opens `<key>.png`
with the same checks before decoding (cache/entry_file.py), and a miss or a bad file is
just a miss.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from installation.cache.entry_file import Rejected, read_entry
from installation.cache.keys import engine_stamp, entry_key, painting_stamps
from installation.core.variations import Variation
from installation.storage.inside import is_inside

log = logging.getLogger(__name__)


class CacheReader:
    """get() like OutcomeCache's, from disk only; nothing is written, touched or deleted."""

    def __init__(
        self,
        dir: Path,
        *,
        engine_info: Mapping[str, object],
        painting_stamp: Sequence[str],
        storage: Path | None = None,
    ) -> None:
        self.dir = Path(dir)
        self.storage = Path(storage) if storage is not None else self.dir.parent
        self.engine = engine_stamp(engine_info)
        self._paintings = tuple(painting_stamp) or ("",)

    def __repr__(self) -> str:
        return f"<CacheReader {self.dir} (read only)>"

    def get(self, variation: Variation) -> np.ndarray | None:
        """The cached picture (read-only array), or None: no engine, no file, a bad file,
        or a cache folder that is a link or outside storage (the kiosk does not use it)."""
        if not self.engine or not is_inside(self.storage, self.dir / "-"):
            return None
        key = entry_key(variation, self.engine, self._paintings)
        try:
            return read_entry(self.dir / f"{key}.png", key, variation.params)
        except FileNotFoundError:
            return None
        except (Rejected, OSError) as e:
            log.warning("cache: %s.png not used (%s); rendering it here", key, e)
            return None


def open_reader(show: Any, engine_info: Mapping[str, object]) -> CacheReader:
    """The show's cache (<storage>/cache) for reading only, keyed as open_cache keys it."""
    from installation.engine_spec import spec_from_show

    spec = spec_from_show(show)
    return CacheReader(
        show.storage_dir / "cache",
        engine_info=engine_info,
        painting_stamp=painting_stamps(spec.paintings, spec.mask),
    )
