"""A dice device that says absurd things, on real ptys: d20 faces, floods, live counters.

Issue 13 (6, 9, 10) and issue 12 (6, 9): faces above 6 were dropped for a d20 show
and faces above a d4's were let through; every HELLO logged a line and every fresh
$ERR code escaped the rate limit (and grew a dict); the status counters were a copy
taken at connect time; reconnects were not logged and failures were per retry.
"""

from __future__ import annotations

import logging
import queue
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from installation.core.events import LinkStatus
from installation.core.throws import DieState
from installation.dice import portstate
from installation.dice.emulator import Emulator
from installation.dice.protocol import encode
from installation.dice.serial import DiceLink
from tests.dice.test_dice_link import committed, connected, make_link
from tests.waiting import next_from, wait_until

FLOOD = 10_000  # of each kind: 20,000 lines in all


@pytest.fixture
def inbox() -> queue.Queue[Any]:
    return queue.Queue()


@pytest.fixture
def dice_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="installation.dice")
    return caplog


def lines(caplog: pytest.LogCaptureFixture, text: str = "") -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "installation.dice" and text in r.getMessage()
    ]


def port(link: DiceLink) -> dict[str, Any]:
    return dict(link.status()["ports"][0])


# -- faces -----------------------------------------------------------------------------
@pytest.fixture
def d20(tmp_path: Path) -> Iterator[Emulator]:
    e = Emulator(2, faces=20, link=tmp_path / "d20", heartbeat_s=0.1)
    yield e
    e.close()


def test_a_d20_throw_commits_with_faces_above_six(
    d20: Emulator, inbox: queue.Queue[Any], dice_log: pytest.LogCaptureFixture
) -> None:
    link = make_link([d20.path], inbox, faces=20)
    try:
        next_from(inbox, connected)
        d20.throw([17, 20], rolling_ms=20)
        assert next_from(inbox, committed).throw.faces == (17, 20)
        d20.set_state(1, DieState.ROLLING)
        d20.send(encode("DIE", 1, 1, "LANDED", 21))  # one more than a d20 has
        wait_until(lambda: port(link)["dropped"].get("face_range") == 1)
        assert link.status()["dropped"] == {"face_range": 1}
        assert lines(dice_log, "die 1 LANDED on face 21, expected 1..20")
    finally:
        link.stop()


@pytest.mark.parametrize(("show_faces", "bad"), [(6, 12), (4, 6)])
def test_faces_above_the_shows_are_dropped_and_counted(
    d20: Emulator,
    inbox: queue.Queue[Any],
    dice_log: pytest.LogCaptureFixture,
    show_faces: int,
    bad: int,
) -> None:
    link = make_link([d20.path], inbox, faces=show_faces)
    try:
        next_from(inbox, connected)
        d20.throw([1, bad], rolling_ms=20)
        wait_until(lambda: port(link)["dropped"].get("face_range") == 1)
        d20.throw([3, 2], rolling_ms=20)
        got = next_from(inbox, committed).throw.faces
        assert got == (3, 2)  # the bad throw never committed
        assert lines(dice_log, f"die 2 LANDED on face {bad}, expected 1..{show_faces}")
        assert link.status()["faces"] == show_faces
    finally:
        link.stop()


# -- floods ----------------------------------------------------------------------------
def test_a_hello_and_err_flood_logs_a_bounded_number_of_lines(
    tmp_path: Path, inbox: queue.Queue[Any], dice_log: pytest.LogCaptureFixture
) -> None:
    emu = Emulator(2, link=tmp_path / "d", heartbeat_s=0.1)
    link = make_link([emu.path], inbox, silence_timeout_s=3.0)
    try:
        next_from(inbox, connected)
        before = len(lines(dice_log))
        flood = b"".join(
            encode("ERR", f"E{i}", f"fault number {i}") + encode("HELLO", 1, f"fw{i % 7}", 2)
            for i in range(FLOOD)
        )
        started = time.monotonic()
        assert emu.send_all(flood, timeout_s=30) == len(flood)
        wait_until(lambda: link.status()["device_errors"] == FLOOD, timeout=30)
        took = time.monotonic() - started
        logged = lines(dice_log)[before:]
        # 8 ERR codes told apart + 1 "others" + 1 "HELLO again": 2 * FLOOD lines before
        assert len(logged) <= 12, logged
        assert any("too many kinds of err" in t for t in logged)
        assert sum("HELLO again" in t for t in logged) == 1
        assert len(link.log_limiters()[0]) <= 3 * (portstate.LOG_NAMES + 1)
        # one ?STATE per STATE_GAP_S at most, not one per HELLO
        states = emu.received.count(b"?STATE")
        assert states <= took / 0.5 + 3, (states, took)
        # no LinkStatus per HELLO either: the app's inbox saw none of the flood
        assert not [e for e in list(inbox.queue) if isinstance(e, LinkStatus)]
        emu.throw([6, 6], rolling_ms=20)
        assert next_from(inbox, committed).throw.faces == (6, 6)
    finally:
        link.stop()
        emu.close()


def test_held_back_lines_are_summed_up_once_their_window_ends(
    tmp_path: Path,
    inbox: queue.Queue[Any],
    dice_log: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(portstate, "LOG_EVERY_S", 0.3)
    emu = Emulator(2, link=tmp_path / "d", heartbeat_s=0.1)
    link = make_link([emu.path], inbox)
    try:
        next_from(inbox, connected)
        bad = encode("DIE", 1, 1, "LANDED", 3)[:-3] + b"00\n"
        assert emu.send_all(bad * 500) == 500 * len(bad)
        wait_until(lambda: port(link)["dropped"].get("checksum") == 500)
        summary = "more drop checksum lines held back"
        wait_until(lambda: bool(lines(dice_log, summary)) and _held_now(link) == 0)
        said = lines(dice_log, "checksum")
        assert "[1 so far]" in said[0]
        # every line was said or counted in a later line: none vanish unsaid
        held = [re.search(r"(\d+) more (drop checksum lines )?held back", t) for t in said]
        summaries = [m for m in held if m and m[2]]
        told = len(said) - len(summaries) + sum(int(m[1]) for m in held if m)
        assert told == 500, said
    finally:
        link.stop()
        emu.close()


def _held_now(link: DiceLink) -> int:
    return link.log_limiters()[0].held("drop", "checksum")


# -- status ----------------------------------------------------------------------------
def test_status_counters_are_live_after_bad_checksums_and_device_errors(
    tmp_path: Path, inbox: queue.Queue[Any]
) -> None:
    emu = Emulator(2, link=tmp_path / "d", heartbeat_s=0.1)
    link = make_link([emu.path], inbox)
    try:
        next_from(inbox, connected)
        bad = encode("DIE", 1, 1, "LANDED", 3)[:-3] + b"00\n"
        emu.send_all(bad * 100 + encode("ERR", "IMU", "no IMU at 0x68") * 50)
        wait_until(lambda: link.status()["device_errors"] == 50)
        st = link.status()
        assert st["dropped"] == {"checksum": 100}
        assert st["ports"][0]["device_errors"] == 50
        assert st["ports"][0]["device_error"] == "IMU: no IMU at 0x68"
        assert st["connected_ports"] == [emu.path]
        assert st["last_connect"]["port"] == emu.path and st["last_disconnect"] is None
        assert DiceLink.status_name == "dice"
    finally:
        link.stop()
        emu.close()


def test_the_app_shows_one_live_dice_section(tmp_path: Path) -> None:
    """The app's status has one live "dice" section, no "dicelink"."""
    from tests.app.test_app import fake_app, make_show

    emu = Emulator(2, link=tmp_path / "d", heartbeat_s=0.1)
    link = DiceLink([emu.path], dice=2, inbox=queue.Queue(), backoff=(0.05, 0.2))
    app, _kiosk, _worker = fake_app(make_show(tmp_path))
    app.edges["dice"] = link
    link.start()
    try:
        wait_until(lambda: link.status()["connected"])
        emu.send_all(encode("ERR", "IMU", "gone") * 50)
        wait_until(lambda: app.sections()["dice"]["device_errors"] == 50)
        sections = app.sections()
        assert "dicelink" not in sections
        assert sections["dice"]["ports"][0]["firmware"] == "emulator-1.0"
    finally:
        app.stop()
        emu.close()


# -- connects and disconnects ----------------------------------------------------------
def test_one_line_per_disconnect_and_per_reconnect_not_per_retry(
    tmp_path: Path, inbox: queue.Queue[Any], dice_log: pytest.LogCaptureFixture
) -> None:
    emu = Emulator(2, link=tmp_path / "d", heartbeat_s=0.1)
    link = make_link([emu.path], inbox, backoff=(0.02, 0.05))
    try:
        next_from(inbox, connected)
        emu.unplug()
        wait_until(lambda: not port(link)["connected"])
        tries = port(link)["retries"]
        wait_until(lambda: port(link)["retries"] >= tries + 5)  # retried while unplugged
        emu.replug()
        next_from(inbox, connected)
        st = link.status()
        assert st["reconnects"] == 1 and st["connected"]
        assert st["last_disconnect"]["port"] == emu.path
        assert st["last_disconnect"]["reason"]
        assert st["last_connect"]["at"] >= st["last_disconnect"]["at"]
    finally:
        link.stop()
        emu.close()
    said = lines(dice_log, emu.path)
    assert len([t for t in said if ": disconnected: " in t and "stopped" not in t]) == 1
    assert len([t for t in said if ": reconnected after " in t]) == 1
    assert not [t for t in said if "cannot open" in t], said
