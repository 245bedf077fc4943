"""Watchdog policy and feeder on a fake clock."""

from __future__ import annotations

import subprocess
import sys

import pytest

from installation.ops.watchdog import WatchdogFeeder, WatchdogPolicy

POLICY = WatchdogPolicy(interval_s=15, frame_stall_s=5, worker_grace_s=60)


class CountingNotifier:
    def __init__(self) -> None:
        self.pings = 0

    def watchdog(self) -> bool:
        self.pings += 1
        return True


def test_healthy_loop_and_worker_ping() -> None:
    assert POLICY.should_ping(now=100, last_frame_at=99.98, worker_ok_at=99)


def test_no_worker_configured_only_the_frame_loop_counts() -> None:
    assert POLICY.should_ping(now=100, last_frame_at=99, worker_ok_at=None)
    assert not POLICY.should_ping(now=100, last_frame_at=90, worker_ok_at=None)


def test_stalled_frame_loop_stops_pings() -> None:
    assert POLICY.should_ping(now=100, last_frame_at=95, worker_ok_at=100)
    assert not POLICY.should_ping(now=100, last_frame_at=94.9, worker_ok_at=100)
    assert "frame loop stalled for 5.1 s" in str(POLICY.problem(100, 94.9, 100))


def test_worker_gets_its_grace_period_then_we_give_up() -> None:
    hung_since = 1000.0
    assert POLICY.should_ping(
        now=hung_since + 59, last_frame_at=hung_since + 59, worker_ok_at=hung_since
    )
    assert not POLICY.should_ping(
        now=hung_since + 61, last_frame_at=hung_since + 61, worker_ok_at=hung_since
    )
    assert "worker unhealthy for 61.0 s" in str(POLICY.problem(1061, 1061, 1000))


@pytest.mark.parametrize("field", ["interval_s", "frame_stall_s", "worker_grace_s"])
def test_bad_numbers_are_named(field: str) -> None:
    values = {"interval_s": 1.0, "frame_stall_s": 1.0, "worker_grace_s": 1.0, field: 0}
    with pytest.raises(ValueError, match=f"WatchdogPolicy.{field} must be a positive"):
        WatchdogPolicy(**values)


def test_feeder_pings_once_per_interval_while_healthy() -> None:
    notifier = CountingNotifier()
    feeder = WatchdogFeeder(POLICY, notifier)
    sent = [feeder.tick(t / 10, last_frame_at=t / 10, worker_ok_at=t / 10) for t in range(0, 400)]
    # 0 .. 39.9 s at 10 frames a second: pings at 0, 15, 30
    assert sum(sent) == 3 == notifier.pings
    assert [i / 10 for i, s in enumerate(sent) if s] == [0.0, 15.0, 30.0]


def test_feeder_withholds_then_resumes_and_logs_each_change_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    notifier = CountingNotifier()
    feeder = WatchdogFeeder(POLICY, notifier)
    assert feeder.tick(0, 0, 0)
    for now in range(61, 70):  # worker heartbeat stuck at 0
        assert not feeder.tick(now, now, 0)
    assert feeder.withheld and "worker" in feeder.withheld
    assert "withholding" in repr(feeder)
    assert feeder.tick(70, 70, 70)  # worker restarted
    assert notifier.pings == 2
    messages = [r.getMessage() for r in caplog.records]
    assert sum("withholding keep-alives" in m for m in messages) == 1
    assert sum("keep-alives resume" in m for m in messages) == 1


def test_faulthandler_dumps_all_threads_on_abort() -> None:
    code = (
        "import os, signal, threading, time\n"
        "from installation.ops.watchdog import enable_faulthandler\n"
        "assert enable_faulthandler()\n"
        "threading.Thread(target=time.sleep, args=(30,), name='worker', daemon=True).start()\n"
        "os.kill(os.getpid(), signal.SIGABRT)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert proc.returncode != 0
    assert "Fatal Python error: Aborted" in proc.stderr
    assert proc.stderr.count("hread 0x") >= 2  # the main thread and the sleeping one
