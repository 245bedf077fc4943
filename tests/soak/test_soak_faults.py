"""The short soak: the real app (subprocess, real pty dice, real worker, real OSC) under faults.

One app runs for the whole module (starting it costs seconds); each test injects one
fault and checks the specific recovery, and no new problem (a lost or late throw, an
exit, a stall). The last test stops the app and checks the books, memory and files.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest

from installation.ops.soak import Soak

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="needs /proc and ptys")


@pytest.fixture(scope="module")
def soak(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Soak]:
    s = Soak(tmp_path_factory.mktemp("soak"), seed=7)
    try:
        s.start()
        if s.problems:
            pytest.fail("\n".join(s.problems))
        yield s
    finally:
        s.close()


@pytest.fixture
def fresh(soak: Soak) -> Iterator[Soak]:
    """Fails the test on any problem that arose during it (earlier ones are not repeated)."""
    before = len(soak.problems)
    yield soak
    new = soak.problems[before:]
    assert new == [], f"{new}\n--- app log tail ---\n{soak.app.log_text()[-2000:]}"


def test_noise_on_the_wire_is_dropped_and_counted(fresh: Soak) -> None:
    seen = fresh.fault_garbage()
    assert seen["throw"] == "shown"
    assert sum(seen["dropped"].values()) >= 2  # the long line and the bad checksum at least


def test_an_unplugged_dice_box_is_found_again(fresh: Soak) -> None:
    seen = fresh.fault_unplug()
    assert seen == {"reconnected": True, "throw": "shown"}


def test_a_silent_dice_box_is_reopened(fresh: Soak) -> None:
    seen = fresh.fault_silence()
    assert seen == {"reconnected": True, "throw": "shown"}


def test_a_killed_worker_is_replaced_and_the_throw_still_shows(fresh: Soak) -> None:
    seen = fresh.fault_worker_kill()
    assert seen["throw"] == "shown"
    assert seen["new"] not in (None, seen["old"])


def test_a_hung_worker_is_killed_after_the_timeout_and_replaced(fresh: Soak) -> None:
    restarts = _worker(fresh).get("restarts", 0)
    seen = fresh.fault_worker_hang()
    assert seen["throw"] == "shown"  # from the cache or the parent's fallback meanwhile
    assert seen["killed"]
    assert seen["new"] not in (None, seen["old"])
    assert _worker(fresh).get("restarts", 0) > restarts


def _worker(soak: Soak) -> dict[str, Any]:
    return ((soak.app.status() or {}).get("sections") or {}).get("worker") or {}


def test_a_broken_show_edit_does_not_stop_the_running_show(fresh: Soak) -> None:
    seen = fresh.fault_bad_show()
    assert seen == {"throw": "shown", "alive": True, "again": "shown"}


def test_an_osc_flood_is_survived_and_counted(fresh: Soak) -> None:
    seen = fresh.fault_osc_flood(300)
    assert seen["throw"] == "shown"
    counters = seen["counters"]
    assert counters.get("malformed", 0) > 0
    assert counters.get("too_large", 0) > 0
    assert counters.get("bad_args", 0) > 0


def test_a_full_disk_does_not_stop_the_show(fresh: Soak) -> None:
    if "disk_full" in fresh.report.skipped:
        pytest.skip(fresh.report.skipped["disk_full"])
    seen = fresh.fault_disk_full()
    assert seen["status_resumed"]  # first: the faults below are read from that status
    assert seen["throws"] and set(seen["throws"]) == {"shown"}
    faults = seen["faults"]
    # the app noticed, and said so: its status file (and maybe a count write) failed
    assert faults.get("status_write", 0) + faults.get("state-write", 0) >= 1, faults


def test_the_books_balance_and_nothing_is_corrupt(soak: Soak) -> None:
    soak.burst(3)  # two throws superseded on purpose
    report = soak.close()
    assert report.problems == []
    ledger = report.ledger
    assert ledger is not None
    assert ledger.lost == [] and ledger.pending == []
    # every committed throw ended shown or superseded by the next (how many of a burst
    # were superseded depends on how fast the cache answers, not on correctness)
    assert ledger.shown + ledger.superseded == ledger.committed
    assert ledger.shown >= report.throws_driven - 2
    assert report.exit_code == 0
    assert report.rss_start_kb and report.rss_end_kb
