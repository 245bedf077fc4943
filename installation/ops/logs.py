"""Logging to stderr with syslog priority prefixes that journald understands.

Lines are written by a daemon thread, never by the thread that logs: under systemd
stderr is a socket to journald, and a journald that stalls (a slow disk, a flood)
blocks every write to it. A frame thread writing its own log lines would freeze the
wall for as long. The queue between them is bounded: when stderr stays blocked, new
lines are dropped and counted, and the count is written once it flows again. At exit
the queue is flushed for at most FLUSH_AT_EXIT_S.
"""

from __future__ import annotations

import atexit
import logging
import logging.handlers
import queue
import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

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


MAX_QUEUED_LINES = 10_000
FLUSH_AT_EXIT_S = 2.0


class _Out(logging.StreamHandler):
    """Writes to the stream; a stream that is gone (closed, broken pipe) costs a counter,
    never a traceback per line (logging's default)."""

    failed = 0

    def handleError(self, record: logging.LogRecord) -> None:
        self.failed += 1


class BackgroundHandler(logging.handlers.QueueHandler):
    """Formats in the caller (cheap), writes to `stream` from a daemon thread (may block)."""

    def __init__(self, stream: TextIO, maxsize: int = MAX_QUEUED_LINES) -> None:
        super().__init__(queue.Queue(maxsize))
        self.dropped = 0
        self._out = _Out(stream)
        self._out.setFormatter(logging.Formatter("%(message)s"))  # formatted already
        self._thread = threading.Thread(target=self._drain, name="log-writer", daemon=True)
        self._thread.start()

    def enqueue(self, record: logging.LogRecord) -> None:
        try:
            self.queue.put_nowait(record)
        except queue.Full:  # stderr is blocked: never wait for it
            self.dropped += 1

    def _drain(self) -> None:
        q = self.queue
        assert isinstance(q, queue.Queue)
        written_dropped = 0
        while True:
            record = q.get()
            try:
                if self.dropped != written_dropped:
                    lost, written_dropped = self.dropped - written_dropped, self.dropped
                    note = f"<4>installation.logs: {lost} log line(s) dropped: stderr was blocked"
                    self._out.emit(logging.makeLogRecord({"msg": note, "levelno": 30}))
                self._out.emit(record)
            finally:
                q.task_done()

    def flush_within(self, timeout_s: float) -> bool:
        """Wait until the queued lines are written, at most timeout_s (exit, tests)."""
        q = self.queue
        assert isinstance(q, queue.Queue)
        deadline = time.monotonic() + timeout_s
        with q.all_tasks_done:
            while q.unfinished_tasks:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                q.all_tasks_done.wait(left)
        return True


def setup_logging(level: str = "INFO") -> None:
    handler = BackgroundHandler(sys.stderr)
    handler.setFormatter(JournalFormatter("%(message)s"))
    handler.addFilter(RateLimit())
    root = logging.getLogger()
    for old in root.handlers:
        if isinstance(old, BackgroundHandler):
            old.flush_within(FLUSH_AT_EXIT_S)
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    atexit.register(handler.flush_within, FLUSH_AT_EXIT_S)


def flush_logs(timeout_s: float = FLUSH_AT_EXIT_S) -> None:
    """Write what is queued before a command returns (at most timeout_s)."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, BackgroundHandler):
            handler.flush_within(timeout_s)
