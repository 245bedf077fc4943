"""Opening hours: which phase the installation is in at a given instant (pure).

Phases: "open" (doors open, dice count), "warmup" (the `warmup_minutes` before an
opening: projectors on, model loaded, cache filled; dice ignored) and "closed".
Nothing here reads the clock: after a restart or a power cut the app simply asks
`phase_at(now)` and carries on (open at 14:00 means open).

Hours are local wall-clock times in the show's IANA timezone. Ranges may not span
midnight (write "20:00-24:00" on one day and "00:00-02:00" on the next). Around
daylight-saving changes a time is placed as Python's zoneinfo does with fold=0: a
time that does not exist (02:30 when clocks jump 02:00->03:00) lands an hour later
(03:30 local); a time that happens twice (02:30 when clocks go back) means the
first one. A dated exception replaces that date's weekly hours.
"""

from __future__ import annotations

import difflib
import re
import zoneinfo
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

Phase = Literal["open", "warmup", "closed"]
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MAX_WARMUP_MINUTES = 720  # keeps every boundary within a day of its date (see _intervals)
_RANGE = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")
_HINT = "write 'closed', or ranges like '10:00-18:00' or '10:00-13:00, 14:00-18:00'"

# (start, end) as minutes after local midnight; end may be 1440 (24:00)
Ranges = tuple[tuple[int, int], ...]


def parse_hours(text: str) -> Ranges:
    """'10:00-13:00, 14:00-18:00' -> ((600, 780), (840, 1080)); 'closed' -> ().

    ValueError naming the bad part and what is accepted. Touching ranges are merged;
    overlapping, empty and midnight-spanning ranges are refused.
    """
    text = text.strip()
    if text.lower() == "closed":
        return ()
    if not text:
        raise ValueError(f"hours are empty; {_HINT}")
    ranges: list[tuple[int, int]] = []
    for part in text.split(","):
        ranges.append(_parse_range(part.strip()))
    ranges.sort()
    merged: list[tuple[int, int]] = [ranges[0]]
    for start, end in ranges[1:]:
        last_start, last_end = merged[-1]
        if start < last_end:
            raise ValueError(
                f"ranges {_fmt(last_start)}-{_fmt(last_end)} and {_fmt(start)}-{_fmt(end)} "
                "overlap; list each stretch of opening once"
            )
        if start == last_end:
            merged[-1] = (last_start, end)
        else:
            merged.append((start, end))
    return tuple(merged)


def _parse_range(part: str) -> tuple[int, int]:
    m = _RANGE.match(part)
    if not m:
        raise ValueError(f"{part!r} is not a range of hours; {_HINT}")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    start, end = _minutes(h1, m1, part, allow_24=False), _minutes(h2, m2, part, allow_24=True)
    if end == start:
        raise ValueError(f"{part!r} opens and closes at the same time; {_HINT}")
    if end < start:
        raise ValueError(
            f"{part!r} spans midnight, which is not supported; split it: "
            f"'{_fmt(start)}-24:00' on this day and '00:00-{_fmt(end)}' on the next"
        )
    return start, end


def _minutes(hour: int, minute: int, part: str, *, allow_24: bool) -> int:
    if hour == 24 and minute == 0 and allow_24:
        return 1440
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        limit = "00:00..24:00 (24:00 only as a closing time)"
        raise ValueError(f"{part!r} has a time outside {limit}; {_HINT}")
    return hour * 60 + minute


def _fmt(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def check_timezone(name: str) -> zoneinfo.ZoneInfo:
    """The ZoneInfo for an IANA name; ValueError with a suggestion when unknown."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        pass
    close = difflib.get_close_matches(name, sorted(zoneinfo.available_timezones()), n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(
        f"unknown timezone {name!r}; write an IANA name such as 'Europe/Berlin' or "
        f"'America/New_York'.{hint}"
    )


def check_hours(text: str) -> str:
    """Validator for show files: the text unchanged, or ValueError."""
    parse_hours(text)
    return text


@dataclass(frozen=True)
class Schedule:
    """Weekly hours plus dated exceptions in one timezone. `None` zone: always open."""

    zone: zoneinfo.ZoneInfo | None
    weekly: tuple[Ranges, ...] = ((),) * 7  # Monday first
    exceptions: Mapping[date, Ranges] = field(default_factory=dict)
    warmup: timedelta = timedelta(0)

    @classmethod
    def always_open(cls) -> Schedule:
        return cls(zone=None)

    @classmethod
    def build(
        cls,
        timezone: str,
        days: Mapping[str, str],
        exceptions: Mapping[date, str] | None = None,
        warmup_minutes: int = 0,
    ) -> Schedule:
        """From curator text: days maps 'monday'.. to hours; missing days are closed."""
        unknown = sorted(set(days) - set(WEEKDAYS))
        if unknown:
            raise ValueError(f"unknown day(s) {unknown}; days are {', '.join(WEEKDAYS)}")
        if not 0 <= warmup_minutes <= MAX_WARMUP_MINUTES:
            raise ValueError(
                f"warmup_minutes {warmup_minutes} is out of range 0..{MAX_WARMUP_MINUTES}"
            )
        return cls(
            zone=check_timezone(timezone),
            weekly=tuple(parse_hours(days.get(d, "closed")) for d in WEEKDAYS),
            exceptions={d: parse_hours(h) for d, h in (exceptions or {}).items()},
            warmup=timedelta(minutes=warmup_minutes),
        )

    def hours_on(self, day: date) -> Ranges:
        """The ranges that apply on a local date (an exception wins over the weekday)."""
        if day in self.exceptions:
            return self.exceptions[day]
        return self.weekly[day.weekday()]

    def phase_at(self, instant: datetime) -> Phase:
        """The phase at an aware instant (any timezone; UTC is usual)."""
        if self.zone is None:
            return "open"
        utc = _utc(instant)
        warm = False
        for start, end in self._intervals(utc.astimezone(self.zone).date()):
            if start <= utc < end:
                return "open"
            if start - self.warmup <= utc < start:
                warm = True
        return "warmup" if warm else "closed"

    def next_change(self, instant: datetime, horizon_days: int = 400) -> datetime | None:
        """The first instant after `instant` with another phase (UTC), or None if the
        phase never changes within `horizon_days` (always open, or never open)."""
        if self.zone is None:
            return None
        utc = _utc(instant)
        now = self.phase_at(utc)
        first = utc.astimezone(self.zone).date()
        for days in (8, horizon_days):
            cutoff = _at(first + timedelta(days=days - 1), 0, self.zone)
            bounds = sorted({b for b in self._boundaries(first, days) if utc < b < cutoff})
            for b in bounds:
                if self.phase_at(b) != now:
                    return b
        return None

    def _boundaries(self, first: date, days: int) -> Iterator[datetime]:
        for n in range(-1, days + 1):
            for start, end in self._day(first + timedelta(days=n)):
                yield from (start - self.warmup, start, end)

    def _intervals(self, local_day: date) -> Iterator[tuple[datetime, datetime]]:
        # A warm-up is at most 12 h, so the neighbouring dates cover every overlap.
        for n in (-1, 0, 1):
            yield from self._day(local_day + timedelta(days=n))

    def _day(self, day: date) -> list[tuple[datetime, datetime]]:
        assert self.zone is not None
        return [(_at(day, s, self.zone), _at(day, e, self.zone)) for s, e in self.hours_on(day)]


def _at(day: date, minutes: int, zone: zoneinfo.ZoneInfo) -> datetime:
    """Local day + minutes (1440 = next midnight) as a UTC instant (fold=0 rules)."""
    if minutes >= 1440:
        day, minutes = day + timedelta(days=1), minutes - 1440
    local = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=zone)
    return local.astimezone(UTC)


def _utc(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(
            f"instant {instant.isoformat()} has no timezone; pass an aware datetime, "
            "e.g. datetime.now(UTC)"
        )
    return instant.astimezone(UTC)
