"""Cluster: pure leader/follower state on a fake clock, the OSC codec, and a real room
of three processes on loopback (this file doubles as the follower harness script)."""

from __future__ import annotations

import json
import os
import queue
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from installation.core import cluster as C
from installation.errors import OscError
from installation.osc import datagrams as D
from installation.osc.cluster import ClusterLink, decode, decode_checked, encode
from tests.waiting import next_from

T = C.Timing(lookahead_s=0.3, ready_timeout_s=5.0, state_every_s=1.0, leader_timeout_s=3.0)


def sent(actions: list[C.Action], kind: type) -> list[Any]:
    return [a.message for a in actions if isinstance(a, C.Send) and isinstance(a.message, kind)]


def of(actions: list[C.Action], kind: type) -> list[Any]:
    return [a for a in actions if isinstance(a, kind)]


def room(now: float = 100.0) -> tuple[C.Leader, C.Follower, C.Follower]:
    leader = C.Leader("L", "s1", T, now)
    a, b = C.Follower("A", T, now), C.Follower("B", T, now)
    for f in (a, b):
        for msg in sent(f.tick(now), C.Alive):
            leader.receive(msg, now)
    return leader, a, b


def deliver(actions: list[C.Action], node: C.Leader | C.Follower, now: float) -> list[C.Action]:
    out: list[C.Action] = []
    for a in actions:
        if isinstance(a, C.Send):
            out += node.receive(a.message, now)
    return out


# -- pure state machines ------------------------------------------------------------------------
def test_all_ready_flips_together_at_one_timetag() -> None:
    leader, a, b = room()
    prep = leader.prepare((3, 5), 1234, 7, 100.0)
    renders = [deliver(prep, f, 100.1) for f in (a, b)]
    assert [of(r, C.RenderShared) for r in renders] == [
        [C.RenderShared("s1-1", (3, 5), 1234, 7)]
    ] * 2
    assert leader.local_ready("s1-1", 101.0) == []  # followers still rendering
    assert deliver(a.local_ready("s1-1", 101.5), leader, 101.5) == []
    flip = deliver(b.local_ready("s1-1", 102.0), leader, 102.0)
    [show] = sent(flip, C.ShowAt)
    assert show.at == pytest.approx(102.3)
    assert of(flip, C.PresentAt) == [C.PresentAt("s1-1", show.at)]
    for f in (a, b):
        assert of(deliver(flip, f, 102.01), C.PresentAt) == [C.PresentAt("s1-1", show.at)]
    assert leader.state.vid == "s1-1"


def test_deadline_passes_and_the_late_node_skips() -> None:
    leader, a, b = room()
    prep = leader.prepare((1, 1), 9, 1, 100.0)
    deliver(prep, a, 100.0)
    deliver(prep, b, 100.0)
    leader.local_ready("s1-1", 100.5)
    deliver(a.local_ready("s1-1", 101.0), leader, 101.0)
    for f in (a, b):  # both stay alive: B is just slow
        deliver(f.tick(102.0), leader, 102.0)
    assert of(leader.tick(104.9), C.Note) == []
    flip = leader.tick(105.0)
    [show] = sent(flip, C.ShowAt)
    assert show.at == pytest.approx(105.3)
    assert "B not ready; they skip it" in of(flip, C.Note)[0].text
    assert of(deliver(flip, a, 105.0), C.PresentAt) == [C.PresentAt("s1-1", 105.3)]
    assert deliver(flip, b, 105.0) == []
    late = b.local_ready("s1-1", 106.0)  # after the flip time: skipped
    assert of(late, C.PresentAt) == []
    assert "skipped" in of(late, C.Note)[0].text
    assert b.shown is None and b.pending is None


def test_late_but_before_the_flip_time_still_flips() -> None:
    leader, a, b = room()
    prep = leader.prepare((1, 2), 9, 2, 100.0)
    deliver(prep, a, 100.0)
    deliver(prep, b, 100.0)
    leader.local_ready("s1-1", 100.0)
    deliver(a.local_ready("s1-1", 100.0), leader, 100.0)
    deliver(b.tick(100.0), leader, 100.0)
    flip = leader.tick(105.0)
    deliver(flip, b, 105.0)
    assert of(b.local_ready("s1-1", 105.2), C.PresentAt) == [C.PresentAt("s1-1", 105.3)]


def test_dead_follower_is_not_waited_for() -> None:
    leader, a, _b = room(100.0)
    for t in (101.0, 102.0, 103.0):
        deliver(a.tick(t), leader, t)
    prep = leader.prepare((2, 2), 5, 8, 103.5)  # B silent since 100: not expected
    deliver(prep, a, 103.5)
    leader.local_ready("s1-1", 103.6)
    flip = deliver(a.local_ready("s1-1", 103.7), leader, 103.7)
    assert sent(flip, C.ShowAt) and of(flip, C.Note) == []


def test_nobody_ready_flips_nothing() -> None:
    leader, _a, _b = room()
    leader.prepare((2, 2), 5, 8, 100.0)
    out = leader.tick(105.0)
    assert sent(out, C.ShowAt) == [] and "no node was ready" in of(out, C.Note)[0].text


def test_prepare_is_repeated_until_ready_and_a_lost_ready_is_resent() -> None:
    leader, a, _b = room()
    prep = leader.prepare((4, 4), 1, 1, 100.0)
    assert sent(leader.tick(100.2), C.Prepare) == []
    again = leader.tick(100.5)
    assert sent(again, C.Prepare) == sent(prep, C.Prepare)
    deliver(prep, a, 100.0)
    a.local_ready("s1-1", 100.1)  # this READY is lost on the way
    assert sent(deliver(again, a, 100.6), C.Ready) == [C.Ready("A", "s1-1")]


def test_newer_throw_supersedes_the_round() -> None:
    leader, a, _b = room()
    deliver(leader.prepare((1, 1), 1, 1, 100.0), a, 100.0)
    second = leader.prepare((6, 6), 2, 36, 100.5)
    assert of(deliver(second, a, 100.5), C.RenderShared)[0].vid == "s1-2"
    assert a.local_ready("s1-1", 100.6) == []  # the old render is no longer wanted
    assert leader.receive(C.Ready("A", "s1-1"), 100.6) == []


def test_follower_without_leader_goes_to_attract_once_and_comes_back() -> None:
    leader, a, _b = room(100.0)
    deliver(leader.tick(100.0), a, 100.0)
    assert of(a.tick(102.9), C.LeaderLost) == []
    lost = of(a.tick(103.0), C.LeaderLost)
    assert len(lost) == 1 and "L: silent for 3 s" in lost[0].reason
    assert of(a.tick(110.0), C.LeaderLost) == []
    back = deliver(leader.tick(111.0), a, 111.0)
    assert of(back, C.LeaderFound) == [C.LeaderFound("L")]


def test_late_follower_catches_up_from_the_state_message() -> None:
    leader, a, _b = room()
    prep = leader.prepare((3, 4), 77, 22, 100.0)
    deliver(prep, a, 100.0)
    leader.local_ready("s1-1", 100.5)
    deliver(a.local_ready("s1-1", 100.5), leader, 100.5)
    newcomer = C.Follower("N", T, 200.0)
    out = deliver(leader.tick(200.0), newcomer, 200.0)
    assert of(out, C.LeaderFound) == [C.LeaderFound("L")]
    assert of(out, C.ClusterOpen) == [C.ClusterOpen(True)]
    assert of(out, C.RenderShared) == [C.RenderShared("s1-1", (3, 4), 77, 22)]
    assert newcomer.local_ready("s1-1", 201.0) == [C.PresentAt("s1-1", 201.0)]  # at once
    assert of(deliver(leader.tick(201.0), newcomer, 201.0), C.RenderShared) == []


def test_missed_show_datagram_is_recovered_from_state() -> None:
    leader, a, b = room()
    prep = leader.prepare((3, 4), 77, 22, 100.0)
    deliver(prep, a, 100.0)
    deliver(prep, b, 100.0)
    leader.local_ready("s1-1", 100.0)
    deliver(b.local_ready("s1-1", 100.0), leader, 100.0)
    flip = deliver(a.local_ready("s1-1", 100.0), leader, 100.0)
    deliver(flip, b, 100.0)  # A never gets SHOW
    out = deliver(leader.tick(100.1), a, 100.1)
    assert of(out, C.PresentAt) == [C.PresentAt("s1-1", pytest.approx(100.3))]


def test_closing_is_mirrored() -> None:
    leader, a, _b = room()
    deliver(leader.tick(100.0), a, 100.0)
    out = deliver(leader.set_open(False, 100.5), a, 100.5)
    assert of(out, C.ClusterOpen) == [C.ClusterOpen(False)]


@pytest.mark.parametrize(
    ("role", "peers", "multicast", "interface", "words"),
    [
        ("leader", [], "", "", "needs peers"),
        ("follower", ["10.0.0.1:1"], "239.1.1.1:9", "10.0.0.2", "not both"),
        ("leader", [], "10.0.0.1:9100", "10.0.0.2", "224.0.0.0/4"),
        ("leader", [], "239.1.1.1:x", "10.0.0.2", "group:port"),
        ("leader", [], "239.1.1.1:9100", "", "interface"),
    ],
)
def test_transport_checks(
    role: str, peers: list[str], multicast: str, interface: str, words: str
) -> None:
    with pytest.raises(ValueError, match=words):
        C.check_transport(role, peers, multicast, interface)
    C.check_transport("none", peers, multicast, interface)


# -- codec -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "msg",
    [
        C.Prepare("L", "ab-1", (3, 5), 2**32 - 1, 7),
        C.Ready("A", "ab-1"),
        C.LeaderState("L", "ab-1", (1, 6), 4_000_000_000, 3, 1_800_000_000.25, True),
        C.LeaderState("L", "", (), 0, 0, 0.0, False),
        C.Alive("Ä-node"),
    ],
)
def test_codec_round_trip(msg: C.Message) -> None:
    assert decode(encode(msg)) == msg


def test_show_travels_as_a_bundle_timetag() -> None:
    at = time.time() + 0.3
    data = encode(C.ShowAt("L", "ab-1", at))
    assert data.startswith(b"#bundle\x00")
    got = decode(data)
    assert isinstance(got, C.ShowAt) and got.vid == "ab-1"
    assert got.at == pytest.approx(at, rel=0, abs=1e-6)  # NTP fraction rounding


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"garbage",
        b"/cluster/\xff\x00\x00\x00,\x00\x00\x00",
        encode(C.Ready("A", "x"))[:-3],
        b"/cluster/prepare\x00\x00\x00\x00,sss\x00\x00\x00\x00a\x00\x00\x00b\x00\x00\x009-9\x00",
        b"#bundle\x00" + b"\x00" * 8,
    ],
)
def test_malformed_datagrams_decode_to_none(data: bytes) -> None:
    assert decode(data) is None


MINUS_FOUR = bytes.fromhex("2362756e646c65000000000000000001fffffffc")  # issue 13, item 1


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (MINUS_FOUR, "bad_size"),
        (MINUS_FOUR[:16] + struct.pack(">i", 2**31 - 1), "bad_size"),
        (MINUS_FOUR[:16] + struct.pack(">i", 16) + MINUS_FOUR[:16], "too_deep"),
        (b"/cluster/alive\x00\x00,\xff\x00\x00", "bad_string"),
        (b"/cluster/alive\x00\x00,s\x00\x00" + b"x" * 5000 + b"\x00" * 4, "too_large"),
    ],
)
def test_hostile_datagrams_are_bounded_errors(data: bytes, kind: str) -> None:
    assert decode(data) is None
    with pytest.raises(D.DatagramError) as caught:
        decode_checked(data)
    assert caught.value.kind == kind


# -- the transport in one process -------------------------------------------------------------
def same_instant(at: float) -> Any:
    """Equal to the microsecond (wall times are ~1.8e9: a relative tolerance is useless)."""
    return pytest.approx(at, rel=0, abs=1e-5)


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(inbox: queue.Queue[Any], kind: type, timeout: float = 5.0) -> Any:
    return next_from(inbox, lambda item: isinstance(item, kind), timeout)


FAST = C.Timing(lookahead_s=0.3, ready_timeout_s=1.0, state_every_s=0.2, leader_timeout_s=1.0)


def test_link_survives_garbage_and_reports_bad_config() -> None:
    inbox: queue.Queue[Any] = queue.Queue()
    port = free_udp_port()
    link = ClusterLink(
        "follower", node="A", listen=f"127.0.0.1:{port}", peers=["127.0.0.1:9"],
        timing=FAST, inbox=inbox,
    )  # fmt: skip
    link.start()
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            junk = [b"\xff" * 50, b"/cluster/state\x00\x00,i\x00\x00", b"x" * 5000, MINUS_FOUR]
            for data in junk:
                s.sendto(data, ("127.0.0.1", port))
            s.sendto(encode(C.LeaderState("L", "", (), 0, 0, 0.0, True)), ("127.0.0.1", port))
        assert wait_for(inbox, C.LeaderFound) == C.LeaderFound("L")
        counters = link.status()["counters"]
        assert counters["malformed"] == 4
        assert counters["malformed_bad_size"] == 1
        assert counters.get("errors", 0) == 0
    finally:
        link.stop()
    with pytest.raises(OscError, match="needs peers"):
        ClusterLink("leader", node="L", listen="127.0.0.1:0", inbox=inbox)
    with pytest.raises(OscError, match="role 'none'"):
        ClusterLink("none", node="L", listen="127.0.0.1:0", inbox=inbox)


def test_multicast_group_on_a_pinned_interface() -> None:
    """Leader and follower share one group port on this host (multicast loop on lo)."""
    group = f"239.255.42.99:{free_udp_port()}"
    inboxes: list[queue.Queue[Any]] = [queue.Queue(), queue.Queue()]
    links = [
        ClusterLink(role, node=role, listen="0.0.0.0:0", multicast=group,
                    interface="127.0.0.1", timing=FAST, inbox=inbox)
        for role, inbox in zip(("leader", "follower"), inboxes, strict=True)
    ]  # fmt: skip
    try:
        for link in links:
            link.start()
    except OscError as e:
        for link in links:
            link.stop()
        pytest.skip(f"no multicast here: {e}")
    leader_link, follower_link = links
    try:
        wait_followers(leader_link, 1)
        vid = leader_link.prepare((2, 3), 5, 9)
        assert vid is not None
        leader_link.local_ready(vid)
        render = wait_for(inboxes[1], C.RenderShared)
        assert render == C.RenderShared(vid, (2, 3), 5, 9)
        follower_link.local_ready(vid)
        at = wait_for(inboxes[0], C.PresentAt).at
        assert wait_for(inboxes[1], C.PresentAt).at == same_instant(at)
    finally:
        for link in links:
            link.stop()


# -- three processes on loopback ---------------------------------------------------------------
class Follower:
    """A follower harness process (this file run as a script) and its printed events."""

    def __init__(self, port: int, leader_port: int) -> None:
        self.port, self.leader_port = port, leader_port
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        root = Path(__file__).resolve().parents[2]
        env = {**os.environ, "PYTHONPATH": str(root)}
        self.proc = subprocess.Popen(
            [sys.executable, __file__, str(port), str(leader_port)],
            stdout=subprocess.PIPE,
            stdin=subprocess.PIPE,
            text=True,
            env=env,
            cwd=root,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.events.put(json.loads(line))

    def next(self, event: str, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                item = self.events.get(timeout=left)
            except queue.Empty:
                break
            if item["event"] == event:
                return item
        raise AssertionError(f"follower on {self.port}: no {event!r} within {timeout} s")

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=5)


@pytest.fixture
def leader() -> Iterator[tuple[ClusterLink, queue.Queue[Any], list[int]]]:
    inbox: queue.Queue[Any] = queue.Queue()
    ports = [free_udp_port() for _ in range(3)]
    link = ClusterLink(
        "leader",
        node="L",
        listen=f"127.0.0.1:{ports[0]}",
        peers=[f"127.0.0.1:{p}" for p in ports[1:]],
        timing=FAST,
        inbox=inbox,
    )
    link.start()
    yield link, inbox, ports
    link.stop()


def throw(link: ClusterLink, inbox: queue.Queue[Any], seed: int) -> tuple[str, float]:
    vid = link.prepare((3, 5), seed, seed % 100)
    assert vid is not None
    link.local_ready(vid)  # the leader's own render is instant here
    present = wait_for(inbox, C.PresentAt)
    assert present.vid == vid
    return vid, present.at


def wait_followers(link: ClusterLink, count: int) -> None:
    deadline = time.monotonic() + 10
    while len(link.status()["followers"]) < count:
        assert time.monotonic() < deadline, link.status()
        time.sleep(0.02)


def test_three_processes_flip_together_and_a_restarted_follower_catches_up(
    leader: tuple[ClusterLink, queue.Queue[Any], list[int]],
) -> None:
    link, inbox, ports = leader
    a, b = Follower(ports[1], ports[0]), Follower(ports[2], ports[0])
    try:
        wait_followers(link, 2)
        vid1, at1 = throw(link, inbox, 1234)
        for f in (a, b):
            assert f.next("render")["seed"] == 1234
            got = f.next("present")
            assert got["vid"] == vid1 and got["at"] == same_instant(at1)
        b.kill()
        vid2, at2 = throw(link, inbox, 4321)  # B silent: the leader stops waiting for it
        assert a.next("present") == {"event": "present", "vid": vid2, "at": same_instant(at2)}
        b = Follower(ports[2], ports[0])  # restarted on the same port
        assert b.next("render") == {
            "event": "render", "vid": vid2, "faces": [3, 5], "seed": 4321, "number": 21,
        }  # fmt: skip
        assert b.next("present")["vid"] == vid2  # caught up from the state message
        wait_followers(link, 2)
        vid3, at3 = throw(link, inbox, 99)
        for f in (a, b):
            assert f.next("present") == {"event": "present", "vid": vid3, "at": same_instant(at3)}
    finally:
        for f in (a, b):
            f.kill()


def _harness(port: int, leader_port: int) -> None:
    """Follower process: render instantly, print render/present events as JSON lines."""
    inbox: queue.Queue[Any] = queue.Queue()
    link = ClusterLink(
        "follower",
        node=f"F{port}",
        listen=f"127.0.0.1:{port}",
        peers=[f"127.0.0.1:{leader_port}"],
        timing=FAST,
        inbox=inbox,
    )
    link.start()
    while True:
        item = inbox.get()
        if isinstance(item, C.RenderShared):
            print(json.dumps({"event": "render", **_fields(item)}), flush=True)
            link.local_ready(item.vid)
        elif isinstance(item, C.PresentAt):
            print(json.dumps({"event": "present", "vid": item.vid, "at": item.at}), flush=True)


def _fields(item: C.RenderShared) -> dict[str, Any]:
    return {"vid": item.vid, "faces": list(item.faces), "seed": item.seed, "number": item.number}


if __name__ == "__main__":
    _harness(int(sys.argv[1]), int(sys.argv[2]))
