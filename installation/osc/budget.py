"""Per-source reply budgets: control replies can never amplify a flood (issue 13).

UDP senders can be spoofed, so any reply is a potential reflection at a victim. A
source (one IP, whatever its port) earns `ratio` bytes of reply for every byte it
sends, plus a small allowance of `rate` bytes per second (so a status reply or an
error reply still reaches a quiet tablet) banked up to `burst`. A reply that does not
fit is dropped and counted by the caller. So from its first datagram on, over T
seconds, what one source is sent is at most

    ratio * (bytes it sent) + burst + rate * T

The table of sources is bounded: a new source may only take the place of one idle
long enough for its allowance to be full again, so forgetting it gives nothing away;
if there is none, the new source gets no replies until one frees up.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

RATIO = 2.0
RATE = 4096.0  # bytes/s of allowance: about one status reply per second
BURST = 8192.0  # also the largest status reply control sends
EARNED_CAP = 65536.0  # credit earned by requests is kept up to this much
MAX_SOURCES = 256


@dataclass
class _Source:
    earned: float
    allowance: float
    at: float


class ReplyBudget:
    """Thread-safe; time comes from `clock` (monotonic seconds)."""

    def __init__(
        self,
        *,
        ratio: float = RATIO,
        rate: float = RATE,
        burst: float = BURST,
        max_sources: int = MAX_SOURCES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not (ratio >= 0 and rate >= 0 and burst > 0 and max_sources >= 1):
            raise ValueError(
                "ReplyBudget needs ratio >= 0, rate >= 0, burst > 0 and max_sources >= 1; "
                f"got {ratio=}, {rate=}, {burst=}, {max_sources=}"
            )
        self.ratio = ratio
        self.rate = rate
        self.burst = burst
        self.max_sources = max_sources
        self.clock = clock
        self._sources: OrderedDict[str, _Source] = OrderedDict()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<ReplyBudget {self.ratio:g}x + {self.rate:g} B/s, {len(self._sources)} sources>"

    def bound(self, request_bytes: int, seconds: float) -> float:
        """The most one source can be sent over `seconds` after sending `request_bytes`."""
        return self.ratio * request_bytes + self.burst + self.rate * seconds

    def received(self, source: str, size: int) -> None:
        """A datagram of `size` bytes arrived from `source`: it earns reply credit."""
        with self._lock:
            s = self._touch(source)
            if s is not None:
                s.earned = min(EARNED_CAP, s.earned + self.ratio * size)

    def take(self, source: str, size: int) -> bool:
        """True if a reply of `size` bytes may go to `source` now (and charge it)."""
        with self._lock:
            s = self._touch(source)
            if s is None or s.earned + s.allowance < size:
                return False
            from_earned = min(s.earned, size)
            s.earned -= from_earned
            s.allowance -= size - from_earned
            return True

    def _touch(self, source: str) -> _Source | None:
        now = self.clock()
        s = self._sources.get(source)
        if s is None:
            if len(self._sources) >= self.max_sources and not self._forget_one(now):
                return None
            s = self._sources[source] = _Source(0.0, self.burst, now)
        else:
            s.allowance = min(self.burst, s.allowance + self.rate * max(0.0, now - s.at))
            s.at = now
            self._sources.move_to_end(source)
        return s

    def _forget_one(self, now: float) -> bool:
        """Forget the least recently seen source if its allowance is full again."""
        source, s = next(iter(self._sources.items()))
        refilled = s.allowance + self.rate * max(0.0, now - s.at) >= self.burst
        if not refilled:  # forgetting earned credit only lowers what may be sent
            return False
        del self._sources[source]
        return True
