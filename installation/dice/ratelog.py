"""Trouble on a dice port logged by kind at most once a window, in bounded memory.

A device can say the same thing thousands of times a second (a HELLO loop, noise
on the wire) or a different thing every time (`$ERR` with a fresh code per line).
RateLog keys every line by (kind, name): kind is fixed in the code ("drop", "err",
"hello"), name comes from the wire (a drop reason, an ERR code). Each key is
logged at most once per `every_s`; what is held back is counted and said later in
one summary line. At most `max_names` names per kind are tracked; a name beyond
that, while the others are still in their window, is folded into the kind's
"others" entry. So a port logs at most kinds x (max_names + 1) lines per window
and holds at most as many entries, whatever the device sends.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass

OTHERS = "*others*"


@dataclass
class _Entry:
    logged_at: float
    held: int = 0  # lines held back since logged_at
    latest: str = ""  # the text of the last one held back


class RateLog:
    """Per-port log limiter. Not thread-safe: one port's reader thread owns it."""

    def __init__(
        self,
        logger: logging.Logger,
        prefix: str,
        *,
        every_s: float = 60.0,
        max_names: int = 8,
    ) -> None:
        self.logger = logger
        self.prefix = prefix  # the port's name, at the start of every line
        self.every_s = every_s
        self.max_names = max_names
        self._kinds: dict[str, OrderedDict[str, _Entry]] = {}

    def __len__(self) -> int:
        """Entries held now (bounded by kinds x (max_names + 1))."""
        return sum(len(names) for names in self._kinds.values())

    def names(self, kind: str) -> list[str]:
        """The names of `kind` told apart now (OTHERS for the pooled rest)."""
        return list(self._kinds.get(kind, ()))

    def held(self, kind: str, name: str) -> int:
        """Lines of this kind and name held back since it was last logged."""
        names = self._kinds.get(kind)
        entry = names.get(name) if names is not None else None
        return entry.held if entry is not None else 0

    def log(
        self, kind: str, name: str, now: float, text: str, level: int = logging.WARNING
    ) -> bool:
        """Log `text` unless this kind and name was logged within the window. True if logged."""
        names = self._kinds.setdefault(kind, OrderedDict())
        entry = names.get(name)
        if entry is None:
            name, entry = self._admit(names, name, now)
            if entry is None:
                names[name] = _Entry(now)
                more = f" (too many kinds of {kind} to tell apart: more are counted together)"
                self.logger.log(
                    level, "%s: %s%s", self.prefix, text, more if name == OTHERS else ""
                )
                return True
        if now - entry.logged_at < self.every_s:
            entry.held += 1
            entry.latest = text
            return False
        held = f" ({entry.held} more held back in the last {now - entry.logged_at:.0f} s)"
        self.logger.log(level, "%s: %s%s", self.prefix, text, held if entry.held else "")
        entry.logged_at, entry.held, entry.latest = now, 0, ""
        names.move_to_end(name)
        return True

    def flush(self, now: float, level: int = logging.WARNING) -> int:
        """One summary line per key whose window has passed with lines held back."""
        said = 0
        for kind, names in self._kinds.items():
            for name, e in names.items():
                if e.held and now - e.logged_at >= self.every_s:
                    what = "other " + kind if name == OTHERS else f"{kind} {name}"
                    self.logger.log(
                        level,
                        "%s: %d more %s lines held back in the last %.0f s; the latest: %s",
                        self.prefix,
                        e.held,
                        what,
                        now - e.logged_at,
                        e.latest,
                    )
                    e.logged_at, e.held, e.latest = now, 0, ""
                    said += 1
        return said

    def _admit(
        self, names: OrderedDict[str, _Entry], name: str, now: float
    ) -> tuple[str, _Entry | None]:
        """Room for a new name: forget the oldest entry that has nothing to say, else
        fold the name into OTHERS. Returns the key to use and its entry (None: new)."""
        if len(names) - (OTHERS in names) < self.max_names:
            return name, None
        for old, e in names.items():
            if old != OTHERS and not e.held and now - e.logged_at >= self.every_s:
                del names[old]
                return name, None
        others = names.get(OTHERS)
        return OTHERS, others
