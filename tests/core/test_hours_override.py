"""Opening hours with an operator's override, on an injected wall clock."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from installation.core.hours import OpeningHours, parse_duration
from installation.core.schedule import Schedule

BERLIN = ZoneInfo("Europe/Berlin")
SCHEDULE = Schedule.build("Europe/Berlin", {"wednesday": "10:00-18:00"})


def at(hour: int, minute: int = 0, day: int = 25) -> float:
    return datetime(2026, 11, day, hour, minute, tzinfo=BERLIN).timestamp()  # a Wednesday


class Wall:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_an_override_opens_for_its_duration_then_the_schedule_is_back() -> None:
    wall = Wall(at(8))
    hours = OpeningHours(SCHEDULE, wall, now=0.0)
    assert hours.check(1.0) == "closed"
    o = hours.force("open", parse_duration("30m"), "osc")
    assert o is not None and o.until == at(8, 30)
    assert hours.check(1.5) == "open"  # applies at the next check, not a second later
    status = hours.status()
    assert status["override"]["phase"] == "open" and status["scheduled"] == "closed"
    assert status["next_change"].startswith("2026-11-25T09:00")  # 10:00 in Berlin, UTC
    wall.t = at(8, 30)
    assert hours.check(3.0) == "closed"
    assert hours.override is None


def test_an_override_without_a_duration_lasts_until_the_next_scheduled_change() -> None:
    wall = Wall(at(12))
    hours = OpeningHours(SCHEDULE, wall, now=0.0)
    o = hours.force("closed", None, "osc")
    assert o is not None and o.until == at(18)  # closed until the evening's closing
    assert hours.check(1.0) == "closed"
    wall.t = at(18, 1)
    assert hours.check(2.0) == "closed" and hours.override is None  # the schedule's own


def test_back_to_the_schedule() -> None:
    wall = Wall(at(12))
    hours = OpeningHours(SCHEDULE, wall, now=0.0)
    hours.force("closed", 3600, "osc")
    assert hours.check(1.0) == "closed"
    hours.force(None, None, "osc")
    assert hours.check(1.1) == "open"


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("30m", 1800), ("2h", 7200), ("1d", 86400), ("45", 45)]
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "0", "8d", "-5m", "1e9", "2 hours"])
def test_bad_durations_say_what_is_accepted(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)
