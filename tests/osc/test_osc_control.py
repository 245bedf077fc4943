"""OSC remote control: the pure router on raw bytes, then the UDP server on loopback."""

from __future__ import annotations

import json
import queue
import socket
import struct
from collections.abc import Iterator
from typing import Any

import pytest
from pythonosc.osc_message_builder import build_msg
from pythonosc.udp_client import SimpleUDPClient

from installation.core.dice import Throw
from installation.core.events import Blackout, RandomThrow, ReloadShow, Resume, ThrowCommitted
from installation.errors import OscError
from installation.osc.control import ControlRouter, ControlServer, parse_faces
from installation.osc.fake import LoopbackReceiver

STATUS = {"state": "attract", "count": 3}


def msg(address: str, *args: Any) -> bytes:
    return build_msg(address, list(args)).dgram


def router(allow: list[str] | None = None) -> ControlRouter:
    return ControlRouter(allow or [], lambda: STATUS, dice=2, faces=6)


# -- pure router --------------------------------------------------------------------------
def test_throw_becomes_a_committed_osc_throw() -> None:
    out = router().handle(msg("/installation/throw", 3, 5), "127.0.0.1")
    assert out.events == [ThrowCommitted(Throw((3, 5), source="osc"))]
    assert out.replies == []
    assert "commands" in out.counts


def test_whole_floats_are_faces_touchosc_style() -> None:
    out = router().handle(msg("/installation/throw", 3.0, 6.0), "127.0.0.1")
    assert out.events == [ThrowCommitted(Throw((3, 6), source="osc"))]


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        ((3,), "got 1 argument(s) [3]; send 2 ints (one per die), each 1..6"),
        ((3, 5, 1), "got 3 argument(s)"),
        ((3, 7), "die 2: 7 is out of range; send 2 ints"),
        ((0, 1), "die 1: 0 is out of range"),
        ((3.5, 1), "die 1: 3.5 is not a whole number"),
        ((3, "five"), "die 2: 'five' is not a number"),
        ((True, 1), "die 1: True is not a number"),
        ((float("nan"), 1), "die 1: nan is not a whole number"),
    ],
)
def test_bad_throw_replies_error_and_puts_nothing(args: tuple[Any, ...], reason: str) -> None:
    out = router().handle(msg("/installation/throw", *args), "127.0.0.1")
    assert out.events == []
    assert len(out.replies) == 1
    address, (which, text) = out.replies[0]
    assert (address, which) == ("/installation/error", "/installation/throw")
    assert reason in text
    assert "bad_args" in out.counts


def test_parse_faces_names_count_and_range() -> None:
    with pytest.raises(ValueError, match=r"send 3 ints \(one per die\), each 1..20"):
        parse_faces([1, 2], dice=3, faces=20)
    assert parse_faces([20, 1, 2.0], dice=3, faces=20) == (20, 1, 2)


@pytest.mark.parametrize(
    ("address", "event"),
    [
        ("/installation/roll", RandomThrow("osc")),
        ("/installation/blackout", Blackout()),
        ("/installation/resume", Resume()),
        ("/installation/reload", ReloadShow("osc")),
    ],
)
def test_triggers_fire_on_no_arg_or_press_and_ignore_release(address: str, event: object) -> None:
    r = router()
    assert r.handle(msg(address), "127.0.0.1").events == [event]
    assert r.handle(msg(address, 1.0), "127.0.0.1").events == [event]
    released = r.handle(msg(address, 0.0), "127.0.0.1")
    assert released.events == [] and "released" in released.counts
    bad = r.handle(msg(address, "go", 2), "127.0.0.1")
    assert bad.events == [] and bad.replies[0][0] == "/installation/error"


def test_status_reply_is_compact_sorted_json_and_ping_pongs() -> None:
    out = router().handle(msg("/installation/status"), "127.0.0.1")
    assert out.replies == [("/installation/status", ['{"count":3,"state":"attract"}'])]
    assert router().handle(msg("/installation/status", 1.0), "127.0.0.1").replies == out.replies
    assert router().handle(msg("/installation/status", 0.0), "127.0.0.1").replies == []
    assert router().handle(msg("/installation/ping", 7), "127.0.0.1").replies == [
        ("/installation/pong", [7])
    ]


def test_a_failing_status_callable_becomes_an_error_reply() -> None:
    def broken() -> dict[str, Any]:
        raise RuntimeError("director busy")

    out = ControlRouter([], broken, dice=2, faces=6).handle(msg("/installation/status"), "::1")
    assert out.replies[0][0] == "/installation/error"
    assert "director busy" in out.replies[0][1][1]


def test_unknown_addresses_and_strangers_are_ignored_and_counted() -> None:
    out = router().handle(msg("/installation/thorw", 1, 2), "127.0.0.1")
    assert (out.events, out.replies) == ([], [])
    assert "unknown_address" in out.counts
    stranger = router().handle(msg("/installation/throw", 1, 2), "192.168.5.5")
    assert (stranger.events, stranger.replies) == ([], [])
    assert "not_allowed" in stranger.counts
    friend = router(["192.168.5.0/24"]).handle(msg("/installation/throw", 1, 2), "192.168.5.5")
    assert len(friend.events) == 1


def far_future_bundle(*messages: bytes) -> bytes:
    """A bundle with the largest NTP timetag (2036, the end of NTP era 0), built by hand:
    python-osc's strict timing would sleep until then, and its builder cannot write it."""
    data = b"#bundle\x00" + struct.pack(">Q", 2**64 - 2)
    for m in messages:
        data += struct.pack(">i", len(m)) + m
    return data


MALFORMED = {
    "truncated": msg("/installation/throw", 3, 5)[:-3],
    "non_utf8_address": b"/inst\xff\xfe\x00\x00,ii\x00" + struct.pack(">ii", 1, 2),
    "bad_padding": b"/installation/throw\x00,ii\x00\x00\x00\x00\x01",
    "garbage": b"\x00\x01\x02\x03hello",
    "bundle_truncated": far_future_bundle(msg("/installation/ping"))[:-2],
    "bundle_huge_size": b"#bundle\x00" + b"\x00" * 8 + struct.pack(">i", 2**30) + b"/x\x00\x00",
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_datagrams_are_counted_not_raised(name: str) -> None:
    out = router().handle(MALFORMED[name], "127.0.0.1")
    assert out.events == []
    assert "malformed" in out.counts or "unknown_address" in out.counts


def test_far_future_bundle_is_handled_now_not_slept_on() -> None:
    out = router().handle(far_future_bundle(msg("/installation/throw", 2, 2)), "127.0.0.1")
    assert out.events == [ThrowCommitted(Throw((2, 2), source="osc"))]


def test_oversize_datagram_is_dropped_unread() -> None:
    out = router().handle(msg("/installation/ping", "x" * 10000), "127.0.0.1")
    assert out.replies == [] and "too_large" in out.counts


# -- the UDP server on loopback ------------------------------------------------------------
@pytest.fixture
def inbox() -> queue.Queue[Any]:
    return queue.Queue()


@pytest.fixture
def server(inbox: queue.Queue[Any]) -> Iterator[ControlServer]:
    s = ControlServer("127.0.0.1:0", [], inbox, lambda: STATUS, dice=2, faces=6)
    s.start()
    yield s
    s.stop()


def test_throw_and_status_over_loopback(server: ControlServer, inbox: queue.Queue[Any]) -> None:
    client = SimpleUDPClient("127.0.0.1", server.address[1])
    client.send_message("/installation/throw", [3, 5])
    assert inbox.get(timeout=2) == ThrowCommitted(Throw((3, 5), source="osc"))
    client.send_message("/installation/status", [])
    reply = next(iter(client.get_messages(2)))
    assert reply.address == "/installation/status"
    assert json.loads(reply.params[0]) == STATUS
    assert server.counters["commands"] == 2


def test_bad_throw_over_loopback_gets_error_reply(
    server: ControlServer, inbox: queue.Queue[Any]
) -> None:
    client = SimpleUDPClient("127.0.0.1", server.address[1])
    client.send_message("/installation/throw", [3, 9])
    reply = next(iter(client.get_messages(2)))
    assert reply.address == "/installation/error"
    assert "die 2: 9 is out of range" in reply.params[1]
    assert inbox.empty()


def test_replies_go_to_reply_port_when_set(inbox: queue.Queue[Any]) -> None:
    with LoopbackReceiver() as rx:
        s = ControlServer(
            "127.0.0.1:0", [], inbox, lambda: STATUS, dice=2, faces=6, reply_port=rx.port
        )
        s.start()
        try:
            SimpleUDPClient("127.0.0.1", s.address[1]).send_message("/installation/ping", [])
            got = rx.wait_for(1)
        finally:
            s.stop()
    assert [m.address for m in got] == ["/installation/pong"]


def test_malformed_datagrams_then_a_valid_throw_still_arrives(
    server: ControlServer, inbox: queue.Queue[Any]
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as raw:
        for data in [*MALFORMED.values(), b"", far_future_bundle(msg("/installation/ping"))]:
            raw.sendto(data, server.address)
        raw.sendto(msg("/installation/throw", 6, 1), server.address)
    assert inbox.get(timeout=2) == ThrowCommitted(Throw((6, 1), source="osc"))
    counters = server.counters
    assert counters["malformed"] >= 4
    assert counters.get("handler_error", 0) == 0


def test_second_server_on_a_taken_port_raises_a_clear_error(server: ControlServer) -> None:
    other = ControlServer(
        f"127.0.0.1:{server.address[1]}", [], queue.Queue(), dict, dice=2, faces=6
    )
    with pytest.raises(OscError, match=r"cannot listen on 127\.0\.0\.1:\d+"):
        other.start()


def test_bad_listen_or_allow_is_an_osc_error() -> None:
    with pytest.raises(OscError, match="not a numeric IPv4"):
        ControlServer("localhost:9000", [], queue.Queue(), dict, dice=2, faces=6)
    with pytest.raises(OscError, match="allow entry 'everyone'"):
        ControlServer("127.0.0.1:0", ["everyone"], queue.Queue(), dict, dice=2, faces=6)


def test_stop_is_prompt_and_repeatable(inbox: queue.Queue[Any]) -> None:
    s = ControlServer("127.0.0.1:0", [], inbox, dict, dice=1, faces=6)
    s.start()
    assert "running" in repr(s)
    s.stop()
    s.stop()
    assert "stopped" in repr(s)
