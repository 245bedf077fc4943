"""OSC cues: the pure plan and schedule with plain numbers, then the sender on loopback."""

from __future__ import annotations

import errno
import logging
import math
import time
from collections.abc import Callable, Iterator

import pytest
from pythonosc.osc_bundle import OscBundle
from pythonosc.osc_message import OscMessage

from installation.errors import OscError
from installation.osc.cues import CueRequest, CueSchedule, CueSender, plan_cue
from installation.osc.fake import FakeCueSender, LoopbackReceiver
from installation.osc.targets import OscTarget
from tests.waiting import poll


def target(mode: str = "immediate", lead_ms: int = 0, port: int = 9, **kw: object) -> OscTarget:
    return OscTarget.model_validate(
        {"name": mode, "host": "127.0.0.1", "port": port, "mode": mode, "lead_ms": lead_ms, **kw}
    )


# -- pure plan and schedule -----------------------------------------------------------------
def test_bundle_target_sends_now_timetagged_at_the_screen_moment() -> None:
    request = CueRequest("shown", (3, 5), 42, 17, at=1000.5)
    send_at, payload = planned(target("bundle"), request, 999.0)
    assert send_at == 999.0
    bundle = OscBundle(payload)
    assert bundle.timestamp == pytest.approx(1000.5, abs=1e-6)
    message = bundle.content(0)
    assert (message.address, message.params) == ("/installation/shown", [17, "42", 3, 5])


def planned(t: OscTarget, request: CueRequest, now: float) -> tuple[float, bytes]:
    out = plan_cue(t, request, now)
    assert out is not None
    return out


def test_immediate_target_sends_lead_ms_before_the_screen_moment() -> None:
    t = target("immediate", lead_ms=250)
    assert planned(t, CueRequest("shown", at=1000.0), 990.0)[0] == pytest.approx(999.75)
    assert planned(t, CueRequest("shown", at=1000.0), 999.9)[0] == 999.9  # late: right away
    assert planned(t, CueRequest("started"), 5.0)[0] == 5.0
    assert OscMessage(planned(t, CueRequest("landed", (2, 6)), 5.0)[1]).params == [2, 6]


def test_muted_event_plans_nothing() -> None:
    assert plan_cue(target(addresses={"started": ""}), CueRequest("started"), 0.0) is None


def test_schedule_releases_each_datagram_on_time() -> None:
    schedule = CueSchedule([target(lead_ms=200), target("bundle")], 0.0, now=100.0)
    schedule.submit(CueRequest("shown", (1, 1), 1, 1, at=101.0), 100.0)
    assert [o.target for o in schedule.due(100.0)] == [1]  # the bundle goes at once
    assert schedule.next_time() == pytest.approx(100.8)
    assert schedule.due(100.79) == []
    assert [o.event for o in schedule.due(100.8)] == ["shown"]
    assert schedule.next_time() == math.inf


def test_schedule_heartbeat_counts_up_and_never_bursts() -> None:
    schedule = CueSchedule([target()], heartbeat_s=5.0, now=0.0)
    assert schedule.due(4.9) == []
    beats = schedule.due(5.0)
    assert [OscMessage(o.payload).params for o in beats] == [[1]]
    assert len(schedule.due(100.0)) == 1  # woke late: one beat, not nineteen
    assert schedule.next_time() == 105.0


def test_schedule_records_unknown_events_instead_of_raising() -> None:
    schedule = CueSchedule([target()], 0.0, now=0.0)
    schedule.submit(CueRequest("fanfare"), 0.0)
    assert len(schedule) == 0
    assert "fanfare" in schedule.errors[0]


# -- the sender on loopback -------------------------------------------------------------------
@pytest.fixture
def rx() -> Iterator[LoopbackReceiver]:
    with LoopbackReceiver() as receiver:
        yield receiver


def test_bundle_cue_timetag_equals_at(rx: LoopbackReceiver) -> None:
    sender = CueSender([target("bundle", port=rx.port)])
    sender.start()
    at = time.time() + 30.0  # far ahead: proves the sender does not wait for it
    sender.cue("shown", faces=(3, 5), seed=3_000_000_000, number=17, at=at)
    got = rx.wait_for(1)
    sender.stop()
    assert [(m.address, m.params) for m in got] == [
        ("/installation/shown", [17, "3000000000", 3, 5])
    ]
    assert got[0].timetag == pytest.approx(at, abs=1e-5)
    assert got[0].arrived < at


def test_immediate_cue_waits_until_at_minus_lead(rx: LoopbackReceiver) -> None:
    sender = CueSender([target("immediate", lead_ms=100, port=rx.port)])
    sender.start()
    at = time.time() + 0.3
    sender.cue("shown", faces=(1, 2), seed=5, number=8, at=at)
    sender.cue("landed", faces=(1, 2))  # no `at`: goes at once, overtaking the scheduled one
    got = rx.wait_for(2)
    sender.stop()
    assert [m.address for m in got] == ["/installation/landed", "/installation/shown"]
    assert got[1].timetag is None
    assert got[1].arrived >= at - 0.1 - 0.005  # not before its scheduled moment


def test_heartbeat_from_the_sender_thread(rx: LoopbackReceiver) -> None:
    sender = CueSender([target(port=rx.port)], heartbeat_s=0.02)
    sender.start()
    got = rx.wait_for(2)
    sender.stop()
    assert [(m.address, m.params) for m in got[:2]] == [
        ("/installation/heartbeat", [1]),
        ("/installation/heartbeat", [2]),
    ]


def test_templates_reach_the_wire(rx: LoopbackReceiver) -> None:
    lights = target(
        port=rx.port,
        addresses={"shown": "/cue/{number}/go", "landed": ""},
        args={"shown": ["f:{die1}", "s:{faces}"]},
    )
    sender = CueSender([lights])
    sender.start()
    sender.cue("landed", faces=(4, 2))
    sender.cue("shown", faces=(4, 2), seed=1, number=33)
    got = rx.wait_for(1)
    sender.stop()
    assert [(m.address, m.params) for m in got] == [("/cue/33/go", [4.0, "4-2"])]


class FlakySocket:
    """A socket whose network is down until `up` is set: injected via socket_factory."""

    def __init__(self) -> None:
        self.up = False
        self.sent: list[bytes] = []

    def sendto(self, data: bytes, address: tuple[str, int], /) -> int:
        if not self.up:
            raise OSError(errno.ENETUNREACH, "Network is unreachable")
        self.sent.append(data)
        return len(data)

    def close(self) -> None:
        pass


def test_down_target_is_counted_logged_once_and_recovers(caplog: pytest.LogCaptureFixture) -> None:
    sock = FlakySocket()
    sender = CueSender([target(port=7000)], socket_factory=lambda family: sock)
    sender.start()
    with caplog.at_level(logging.INFO, logger="installation.osc.cues"):
        for _ in range(3):
            sender.cue("started")  # never raises
        assert poll(lambda: sender.counters["errors"] == 3)
        assert sender.stats()["targets"]["immediate"]["down"] is True  # type: ignore[index]
        sock.up = True
        sender.cue("attract")
        assert poll(lambda: sender.counters["sent"] == 1)
    sender.stop()
    failing = [r for r in caplog.records if "failing" in r.getMessage()]
    assert len(failing) == 1 and "Network is unreachable" in failing[0].getMessage()
    assert any("getting through again" in r.getMessage() for r in caplog.records)
    assert sender.stats()["targets"]["immediate"]["down"] is False  # type: ignore[index]


def test_cue_never_raises_and_counts_what_it_could_not_send() -> None:
    sender = CueSender([target()], socket_factory=lambda family: FlakySocket())
    sender.start()
    sender.cue("fanfare")
    sender.cue("shown", faces=None)  # type: ignore[arg-type]
    assert poll(lambda: sender.counters["plan_errors"] == 1)
    sender.stop()
    assert sender.counters["dropped"] == 1


def test_a_named_host_is_refused_up_front() -> None:
    named = OscTarget.model_construct(name="sound", host="sound.local", port=9000)
    with pytest.raises(OscError, match=r"osc target 'sound': host 'sound\.local' is not a numeric"):
        CueSender([named])


@pytest.mark.parametrize("make", [FakeCueSender, lambda: CueSender([])], ids=["fake", "real"])
def test_fake_and_real_share_the_contract(make: Callable[[], FakeCueSender | CueSender]) -> None:
    sender = make()
    sender.start()
    sender.cue("shown", faces=(1, 2), seed=3, number=4, at=time.time())
    sender.cue("not-an-event")
    sender.stop()
    assert set(sender.counters) == {"sent", "errors", "dropped", "plan_errors"}
    assert {"queued", "targets"} <= set(sender.stats())


def test_fake_records_cues_in_order() -> None:
    fake = FakeCueSender()
    fake.cue("landed", faces=(3, 5))
    fake.cue("shown", faces=(3, 5), seed=9, number=17, at=12.5)
    assert fake.names == ["landed", "shown"]
    assert fake.cues[1] == CueRequest("shown", (3, 5), 9, 17, 12.5)
