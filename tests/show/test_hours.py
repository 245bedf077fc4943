"""validate's hours line: the next opening and closing, computed from the schedule."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from installation.show.schema import ScheduleSection, Show
from installation.show.summary import hours_line, next_opening_and_closing, summarize

BERLIN = ZoneInfo("Europe/Berlin")
WEEK = """\
[schedule]
timezone = "Europe/Berlin"
monday = "10:00-18:00"
wednesday = "10:00-13:00, 14:00-18:00"
warmup_minutes = 30
[[schedule.exceptions]]
date = 2026-12-09
hours = "closed"
note = "Inventory"
"""


def section(text: str = WEEK) -> ScheduleSection:
    found = Show.model_validate(tomllib.loads(text)).schedule
    assert found is not None
    return found


def berlin(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("now", "opening", "closing", "line"),
    [
        # Monday 7 December, open: closes at 18:00; Wednesday 9th is closed (exception),
        # so the next opening is Monday 14th.
        (
            berlin(7, 12),
            berlin(14, 10),
            berlin(7, 18),
            "open now (Europe/Berlin); "
            "closes Mon 2026-12-07 18:00, opens again Mon 2026-12-14 10:00",
        ),
        # Sunday 6th: closed; opens Monday 10:00 (not at the 09:30 warm-up), closes 18:00.
        (
            berlin(6, 12),
            berlin(7, 10),
            berlin(7, 18),
            "closed now (Europe/Berlin); opens Mon 2026-12-07 10:00, closes Mon 2026-12-07 18:00",
        ),
        (
            berlin(7, 9, 45),
            berlin(7, 10),
            berlin(7, 18),
            "warming up now (Europe/Berlin); "
            "opens Mon 2026-12-07 10:00, closes Mon 2026-12-07 18:00",
        ),
        # Wednesday 16th at 13:30, the lunch break: opens 14:00, closes 18:00.
        (
            berlin(16, 13, 30),
            berlin(16, 14),
            berlin(16, 18),
            "warming up now (Europe/Berlin); "
            "opens Wed 2026-12-16 14:00, closes Wed 2026-12-16 18:00",
        ),
    ],
)
def test_next_opening_and_closing(
    now: datetime, opening: datetime, closing: datetime, line: str
) -> None:
    assert next_opening_and_closing(section().build(), now) == (opening, closing)
    assert hours_line(section(), now.astimezone(UTC)) == line


def test_never_open_and_always_open_say_so() -> None:
    never = section('[schedule]\ntimezone = "UTC"\n')
    assert hours_line(never, datetime(2026, 1, 1, tzinfo=UTC)) == (
        "closed now (UTC); opens not within a year, closes not within a year"
    )
    days = "\n".join(
        f'{d} = "00:00-24:00"'
        for d in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    )
    always = section(f'[schedule]\ntimezone = "UTC"\n{days}\n')
    assert hours_line(always, datetime(2026, 1, 1, tzinfo=UTC)) == (
        "open now (UTC); closes not within a year, opens again not within a year"
    )


def test_the_summary_carries_the_hours_line() -> None:
    show = Show.model_validate(tomllib.loads(WEEK))
    text = summarize(show, now=berlin(6, 12))
    assert text.splitlines()[-1] == (
        "hours     closed now (Europe/Berlin); opens Mon 2026-12-07 10:00, "
        "closes Mon 2026-12-07 18:00"
    )
