"""Opening hours on fake instants: weekly hours, exceptions, warm-up, both DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from installation.core.schedule import Schedule, check_timezone, parse_hours

BERLIN = ZoneInfo("Europe/Berlin")


def local(*args: int) -> datetime:
    """A Berlin wall-clock time as an aware datetime (fold=0)."""
    return datetime(*args, tzinfo=BERLIN)  # type: ignore[misc]


def week(hours: str, **more: str) -> dict[str, str]:
    days = dict.fromkeys(("monday", "tuesday", "wednesday", "thursday", "friday"), hours)
    return {**days, **more}


@pytest.fixture
def gallery() -> Schedule:
    return Schedule.build(
        "Europe/Berlin",
        week("10:00-13:00, 14:00-18:00", saturday="11:00-20:00"),
        {date(2026, 12, 25): "closed", date(2026, 12, 27): "12:00-16:00"},
        warmup_minutes=30,
    )


# -- parsing -----------------------------------------------------------------------------
def test_hours_parse_sort_and_merge() -> None:
    assert parse_hours("closed") == ()
    assert parse_hours(" Closed ") == ()
    assert parse_hours("14:00-18:00,10:00-13:00") == ((600, 780), (840, 1080))
    assert parse_hours("10:00-13:00, 13:00-18:00") == ((600, 1080),)
    assert parse_hours("0:00-24:00") == ((0, 1440),)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty"),
        ("10-18", "not a range of hours"),
        ("10:00-18:00; 19:00-20:00", "not a range"),
        ("22:00-02:00", "spans midnight"),
        ("10:00-10:00", "same time"),
        ("10:00-25:00", "outside 00:00..24:00"),
        ("24:00-24:00", "outside"),
        ("10:61-12:00", "outside"),
        ("10:00-14:00, 13:00-18:00", "overlap"),
    ],
)
def test_bad_hours_name_the_problem_and_the_form(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=words) as e:
        parse_hours(text)
    assert "closed" in str(e.value) or "split it" in str(e.value) or "overlap" in str(e.value)


def test_midnight_error_says_how_to_split() -> None:
    with pytest.raises(ValueError, match="'22:00-24:00' on this day and '00:00-02:00'"):
        parse_hours("22:00-02:00")


def test_unknown_timezone_suggests_a_name() -> None:
    with pytest.raises(ValueError, match="Did you mean 'Europe/Berlin'"):
        check_timezone("Europe/Berln")
    with pytest.raises(ValueError, match="IANA"):
        check_timezone("../etc/passwd")
    assert check_timezone("UTC") == ZoneInfo("UTC")


def test_build_rejects_unknown_days_and_warmup_range() -> None:
    with pytest.raises(ValueError, match=r"unknown day.*mondy"):
        Schedule.build("UTC", {"mondy": "10:00-12:00"})
    with pytest.raises(ValueError, match="warmup_minutes 9999"):
        Schedule.build("UTC", {}, warmup_minutes=9999)


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="no timezone"):
        Schedule.build("UTC", {}).phase_at(datetime(2026, 1, 1, 12))


# -- phases ------------------------------------------------------------------------------
def test_no_schedule_is_always_open() -> None:
    s = Schedule.always_open()
    assert s.phase_at(datetime(2026, 3, 29, 3, tzinfo=UTC)) == "open"
    assert s.next_change(datetime(2026, 3, 29, 3, tzinfo=UTC)) is None


@pytest.mark.parametrize(
    ("when", "phase"),
    [
        (local(2026, 6, 1, 9, 29), "closed"),  # Monday
        (local(2026, 6, 1, 9, 30), "warmup"),
        (local(2026, 6, 1, 9, 59), "warmup"),
        (local(2026, 6, 1, 10, 0), "open"),
        (local(2026, 6, 1, 12, 59), "open"),
        (local(2026, 6, 1, 13, 0), "closed"),  # lunch
        (local(2026, 6, 1, 13, 30), "warmup"),
        (local(2026, 6, 1, 14, 0), "open"),
        (local(2026, 6, 1, 17, 59, 59), "open"),
        (local(2026, 6, 1, 18, 0), "closed"),
        (local(2026, 6, 6, 19, 0), "open"),  # Saturday
        (local(2026, 6, 7, 12, 0), "closed"),  # Sunday: not listed
    ],
)
def test_weekly_phases(gallery: Schedule, when: datetime, phase: str) -> None:
    assert gallery.phase_at(when) == phase
    assert gallery.phase_at(when.astimezone(UTC)) == phase  # same instant, any zone


def test_restart_mid_afternoon_is_simply_open(gallery: Schedule) -> None:
    assert gallery.phase_at(datetime(2026, 6, 3, 12, 0, tzinfo=UTC)) == "open"  # 14:00 CEST


def test_exceptions_override_the_weekday(gallery: Schedule) -> None:
    assert gallery.phase_at(local(2026, 12, 25, 11)) == "closed"  # a Friday
    assert gallery.phase_at(local(2026, 12, 25, 9, 45)) == "closed"  # no warm-up either
    assert gallery.phase_at(local(2026, 12, 27, 11, 40)) == "warmup"  # a Sunday, special
    assert gallery.phase_at(local(2026, 12, 27, 15, 59)) == "open"
    assert gallery.phase_at(local(2026, 12, 27, 16, 0)) == "closed"


def test_warmup_reaches_back_over_midnight() -> None:
    s = Schedule.build("Europe/Berlin", {"tuesday": "00:30-06:00"}, warmup_minutes=60)
    assert s.phase_at(local(2026, 6, 1, 23, 29)) == "closed"  # Monday
    assert s.phase_at(local(2026, 6, 1, 23, 30)) == "warmup"
    assert s.phase_at(local(2026, 6, 2, 0, 30)) == "open"


def test_back_to_back_days_stay_open_over_midnight() -> None:
    s = Schedule.build("UTC", {"friday": "20:00-24:00", "saturday": "00:00-02:00"})
    t = datetime(2026, 6, 5, 23, 59, tzinfo=UTC)
    assert s.phase_at(t) == "open"
    assert s.phase_at(t + timedelta(minutes=1)) == "open"
    assert s.next_change(t) == datetime(2026, 6, 6, 2, 0, tzinfo=UTC)


# -- daylight saving in Europe/Berlin ---------------------------------------------------------
def test_spring_gap_opening_inside_the_missing_hour() -> None:
    """29 March 2026: 02:00 CET jumps to 03:00 CEST. 02:30 does not exist."""
    s = Schedule.build("Europe/Berlin", {"sunday": "01:00-02:30, 02:45-05:00"})
    # 01:00 CET = 00:00Z open; the missing 02:30 is placed at 03:30 CEST = 01:30Z
    assert s.phase_at(datetime(2026, 3, 29, 0, 0, tzinfo=UTC)) == "open"
    assert s.phase_at(datetime(2026, 3, 29, 1, 29, tzinfo=UTC)) == "open"  # 03:29 CEST
    # 02:45 likewise lands at 03:45 CEST: the quarter hour between stays closed
    assert s.phase_at(datetime(2026, 3, 29, 1, 40, tzinfo=UTC)) == "closed"  # 03:40 CEST
    assert s.phase_at(datetime(2026, 3, 29, 1, 45, tzinfo=UTC)) == "open"  # 03:45 CEST
    # a range across the gap opens for one hour less in real time
    s2 = Schedule.build("Europe/Berlin", {"sunday": "01:00-04:00"})
    start = datetime(2026, 3, 29, 0, 0, tzinfo=UTC)
    assert s2.next_change(start) == datetime(2026, 3, 29, 2, 0, tzinfo=UTC)  # 04:00 CEST


def test_autumn_repeated_hour() -> None:
    """25 October 2026: 03:00 CEST falls back to 02:00 CET; 02:00-03:00 happens twice."""
    s = Schedule.build("Europe/Berlin", {"sunday": "01:00-02:30"})
    assert s.phase_at(datetime(2026, 10, 24, 23, 0, tzinfo=UTC)) == "open"  # 01:00 CEST
    assert s.phase_at(datetime(2026, 10, 25, 0, 29, tzinfo=UTC)) == "open"  # 02:29 CEST
    # closes at the first 02:30 (CEST); the second 02:30 (CET) stays closed
    assert s.phase_at(datetime(2026, 10, 25, 0, 30, tzinfo=UTC)) == "closed"
    assert s.phase_at(datetime(2026, 10, 25, 1, 15, tzinfo=UTC)) == "closed"  # 02:15 CET
    # a range across the repeated hour lasts one hour longer in real time
    s2 = Schedule.build("Europe/Berlin", {"sunday": "01:00-04:00"})
    start = datetime(2026, 10, 24, 23, 0, tzinfo=UTC)
    assert s2.next_change(start) == datetime(2026, 10, 25, 3, 0, tzinfo=UTC)  # 04:00 CET


def test_same_local_hours_both_sides_of_dst() -> None:
    s = Schedule.build("Europe/Berlin", week("10:00-18:00"))
    assert s.phase_at(datetime(2026, 3, 27, 9, 0, tzinfo=UTC)) == "open"  # CET: 10:00
    assert s.phase_at(datetime(2026, 3, 30, 8, 0, tzinfo=UTC)) == "open"  # CEST: 10:00
    assert s.phase_at(datetime(2026, 3, 30, 7, 59, tzinfo=UTC)) == "closed"


# -- next change -------------------------------------------------------------------------
def test_next_change_walks_through_the_day(gallery: Schedule) -> None:
    t = local(2026, 6, 1, 8, 0)
    seen = []
    for _ in range(6):
        nxt = gallery.next_change(t)
        assert nxt is not None
        seen.append((nxt.astimezone(BERLIN).strftime("%a %H:%M"), gallery.phase_at(nxt)))
        t = nxt
    assert seen == [
        ("Mon 09:30", "warmup"),
        ("Mon 10:00", "open"),
        ("Mon 13:00", "closed"),
        ("Mon 13:30", "warmup"),
        ("Mon 14:00", "open"),
        ("Mon 18:00", "closed"),
    ]


def test_next_change_skips_closed_holidays_and_weekends(gallery: Schedule) -> None:
    nxt = gallery.next_change(local(2026, 12, 24, 19, 0))  # Thursday evening
    assert nxt is not None
    assert nxt.astimezone(BERLIN) == local(2026, 12, 26, 10, 30)  # Saturday warm-up


def test_next_change_never_for_a_closed_or_always_open_week() -> None:
    t = datetime(2026, 6, 1, tzinfo=UTC)
    assert Schedule.build("UTC", {}).next_change(t) is None
    always = Schedule.build(
        "UTC",
        dict.fromkeys(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
            "00:00-24:00",
        ),
    )
    assert always.phase_at(t) == "open"
    assert always.next_change(t) is None
