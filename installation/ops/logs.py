"""Logging to stderr with syslog priority prefixes that journald understands."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable

_PRIORITY = {
    logging.CRITICAL: 2,
    logging.ERROR: 3,
    logging.WARNING: 4,
    logging.INFO: 6,
    logging.DEBUG: 7,
}


class JournalFormatter(logging.Formatter):
    """'<3>installation.dice: message' - journald strips the prefix and keeps the priority."""

    def format(self, record: logging.LogRecord) -> str:
        prio = _PRIORITY.get(record.levelno, 6)
        return f"<{prio}>{record.name}: {super().format(record)}"


class RateLimit(logging.Filter):
    """Let a repeated message through once per `interval` seconds, then say how many were held."""

    def __init__(self, interval: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.interval = interval
        self.clock = clock
        self._seen: dict[tuple[str, int, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        # the formatted text, not the template: "%s: %s" carries every fault kind, and
        # "variation %d shown" every variation; those must not hide one another
        key = (record.name, record.levelno, record.getMessage())
        now = self.clock()
        last, held = self._seen.get(key, (-1e18, 0))
        if now - last >= self.interval:
            if held:
                record.msg = f"{record.getMessage()} (and {held} more like it)"
                record.args = ()
            self._seen[key] = (now, 0)
            if len(self._seen) > 1000:
                self._seen.clear()
            return True
        self._seen[key] = (last, held + 1)
        return False


def setup_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JournalFormatter("%(message)s"))
    handler.addFilter(RateLimit())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
