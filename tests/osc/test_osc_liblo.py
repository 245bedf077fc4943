"""Interop with another OSC implementation: liblo's oscsend drives control, oscdump
receives cues. Skipped without liblo-tools, except in CI (INSTALLATION_REQUIRE_TOOLS=1)."""

from __future__ import annotations

import queue
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from installation.core.dice import Throw
from installation.core.events import RandomThrow, ThrowCommitted
from installation.osc.control import ControlServer
from installation.osc.cues import CueSender
from installation.osc.fake import LoopbackReceiver
from installation.osc.targets import OscTarget
from tests.conftest import need_tool

NTP_EPOCH_OFFSET = 2_208_988_800  # seconds from 1900 (NTP) to 1970 (Unix)


def oscsend(port: int, address: str, types: str = "", *values: object) -> None:
    cmd = [need_tool("oscsend"), "127.0.0.1", str(port), address, types, *map(str, values)]
    subprocess.run([c for c in cmd if c != ""], check=True, timeout=5, capture_output=True)


Served = tuple[ControlServer, "queue.Queue[Any]", LoopbackReceiver]


@pytest.fixture
def server() -> Iterator[Served]:
    """A control server whose replies go to a receiver (oscsend exits before any reply)."""
    inbox: queue.Queue[Any] = queue.Queue()
    with LoopbackReceiver() as rx:
        s = ControlServer(
            "127.0.0.1:0", [], inbox, lambda: {"ok": True}, dice=2, faces=6, reply_port=rx.port
        )
        s.start()
        yield s, inbox, rx
        s.stop()


def test_oscsend_throw_reaches_the_inbox(server: Served) -> None:
    s, inbox, _ = server
    oscsend(s.address[1], "/installation/throw", "ii", 3, 5)
    assert inbox.get(timeout=2) == ThrowCommitted(Throw((3, 5), source="osc"))
    oscsend(s.address[1], "/installation/throw", "ff", 6.0, 1.0)
    assert inbox.get(timeout=2) == ThrowCommitted(Throw((6, 1), source="osc"))
    oscsend(s.address[1], "/installation/roll")
    assert inbox.get(timeout=2) == RandomThrow("osc")


def test_oscsend_bad_throw_gets_an_error_at_the_reply_port(server: Served) -> None:
    s, inbox, replies = server
    oscsend(s.address[1], "/installation/throw", "is", 3, "five")
    got = replies.wait_for(1)
    assert got[0].address == "/installation/error"
    assert "die 2: 'five' is not a number" in got[0].params[1]
    assert inbox.empty()


def test_oscsend_still_works_after_the_minus_four_bundle(server: Served) -> None:
    """The datagram that once stopped remote control for good (issue 13), then liblo."""
    s, inbox, replies = server
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as raw:
        raw.sendto(bytes.fromhex("2362756e646c65000000000000000001fffffffc"), s.address)
    oscsend(s.address[1], "/installation/ping", "si", "liblo", 7)
    got = replies.wait_for(1, timeout=1.0)
    assert [(m.address, m.params) for m in got] == [("/installation/pong", ["liblo", 7])]
    oscsend(s.address[1], "/installation/throw", "ii", 4, 2)
    assert inbox.get(timeout=1) == ThrowCommitted(Throw((4, 2), source="osc"))
    assert s.counters["malformed_bad_size"] == 1


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class OscDump:
    """oscdump as a subprocess with its lines read by a thread (so reads can time out)."""

    def __init__(self) -> None:
        self.port = free_udp_port()
        self.proc = subprocess.Popen(
            [need_tool("oscdump"), "-L", str(self.port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self._wait_ready()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip())

    def _wait_ready(self) -> None:
        """oscdump gives no ready signal: probe until a probe is echoed."""
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for _ in range(50):
                s.sendto(b"/probe\x00\x00,\x00\x00\x00", ("127.0.0.1", self.port))
                try:
                    if "/probe" in self.lines.get(timeout=0.1):
                        break
                except queue.Empty:
                    continue
            else:
                raise AssertionError("oscdump did not start")
        while not self.lines.empty():
            self.lines.get_nowait()

    def next(self, timeout: float = 3.0) -> str:
        while True:
            line = self.lines.get(timeout=timeout)
            if "/probe" not in line:
                return line

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=5)


@pytest.fixture
def dump() -> Iterator[OscDump]:
    d = OscDump()
    yield d
    d.close()


def ntp_hex(epoch: float) -> tuple[int, int]:
    ntp = epoch + NTP_EPOCH_OFFSET
    return int(ntp), int((ntp % 1) * 2**32)


def test_oscdump_receives_a_bundle_cue_timetagged_at(dump: OscDump) -> None:
    target = OscTarget.model_validate(
        {"name": "sound", "host": "127.0.0.1", "port": dump.port, "mode": "bundle"}
    )
    sender = CueSender([target])
    sender.start()
    at = time.time() + 0.2  # liblo holds a bundle until its timetag, then prints it
    sender.cue("shown", faces=(3, 5), seed=3_000_000_000, number=17, at=at)
    line = dump.next()
    sender.stop()
    stamp, rest = line.split(" ", 1)
    assert rest == '/installation/shown isii 17 "3000000000" 3 5'
    seconds, fraction = (int(x, 16) for x in stamp.split("."))
    want_s, want_f = ntp_hex(at)
    assert seconds == want_s
    assert abs(fraction - want_f) < 2**32 * 1e-5


def test_oscdump_receives_immediate_cues_and_templates(dump: OscDump) -> None:
    target = OscTarget.model_validate(
        {
            "name": "lights",
            "host": "127.0.0.1",
            "port": dump.port,
            "addresses": {"landed": "/lights/dice"},
            "args": {"landed": ["{faces*}", "f:0.5"]},
        }
    )
    sender = CueSender([target])
    sender.start()
    sender.cue("started")
    sender.cue("landed", faces=(2, 6))
    lines = [dump.next().split(" ", 1)[1], dump.next().split(" ", 1)[1]]
    sender.stop()
    assert lines == ["/installation/started", "/lights/dice iif 2 6 0.500000"]


def test_oscsend_opens_and_closes_the_show_for_a_while(server: Served) -> None:
    from installation.core.events import HoursOverride

    s, inbox, replies = server
    oscsend(s.address[1], "/installation/open", "s", "2h")
    assert inbox.get(timeout=2) == HoursOverride("open", 7200.0, "osc")
    oscsend(s.address[1], "/installation/close", "i", 1)  # a button: until the next change
    assert inbox.get(timeout=2) == HoursOverride("closed", None, "osc")
    oscsend(s.address[1], "/installation/schedule")
    assert inbox.get(timeout=2) == HoursOverride(None, None, "osc")
    oscsend(s.address[1], "/installation/open", "s", "forever")
    (error,) = replies.wait_for(1)
    assert error.address == "/installation/error" and "duration" in " ".join(map(str, error.params))
    assert inbox.empty()
