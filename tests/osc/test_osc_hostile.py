"""Hostile input at the real control server on loopback (issue 13, items 1 and 4):
crafted bundles never stop control, replies never amplify a flood, and a stuck receive
thread is replaced by the watchdog."""

from __future__ import annotations

import queue
import random
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from pythonosc.osc_message_builder import build_msg

from installation.core.dice import Throw
from installation.core.events import ThrowCommitted
from installation.osc import datagrams as D
from installation.osc.control import ControlServer
from installation.osc.router import status_json
from tests.osc.test_osc_datagrams import BAD, HEADER, MINUS_FOUR, bundle, element, nested
from tests.waiting import wait_until

# About the size of the real status reply the issue measured (2,164 bytes).
BIG_STATUS: dict[str, Any] = {f"section{i:02d}": {"counters": {"x" * 20: i}} for i in range(41)}
STATUS_REQUEST = build_msg("/installation/status", []).dgram  # 28 bytes


def msg(address: str, *args: Any) -> bytes:
    return build_msg(address, list(args)).dgram


def wait_for_count(server: ControlServer, key: str, count: int) -> None:
    wait_until(lambda: server.counters.get(key, 0) >= count)


def send_paced(server: ControlServer, client: Client, datagrams: list[bytes]) -> None:
    """Send in batches of 25, each once the server has read the last: never more than
    the socket buffer holds, so no datagram is lost on the way and counts are exact."""
    for i in range(0, len(datagrams), 25):
        batch = datagrams[i : i + 25]
        want = server.counters.get("datagrams", 0) + len(batch)
        for data in batch:
            client.send(data)
        wait_for_count(server, "datagrams", want)


class Client:
    """A loopback UDP peer that sends raw datagrams and reads the replies."""

    def __init__(self, server: ControlServer) -> None:
        self.to = server.address
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sent = 0
        self.received: list[bytes] = []

    def send(self, data: bytes) -> None:
        self.sock.sendto(data, self.to)
        self.sent += len(data)

    def read(self, timeout: float) -> D.Message | None:
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            return None
        self.received.append(data)
        return D.decode(data)[0]

    def ping(self, token: str, within: float = 1.0) -> bool:
        """Send a ping and wait for its pong (other replies are read and kept)."""
        self.send(msg("/installation/ping", token))
        deadline = time.monotonic() + within
        while (left := deadline - time.monotonic()) > 0:
            reply = self.read(left)
            if reply is not None and (reply.address, reply.args) == (
                "/installation/pong",
                (token,),
            ):
                return True
        return False

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def inbox() -> queue.Queue[Any]:
    return queue.Queue()


@pytest.fixture
def server(inbox: queue.Queue[Any]) -> Iterator[ControlServer]:
    s = ControlServer("127.0.0.1:0", [], inbox, lambda: BIG_STATUS, dice=2, faces=6)
    s.start()
    yield s
    s.stop()


@pytest.fixture
def client(server: ControlServer) -> Iterator[Client]:
    c = Client(server)
    yield c
    c.close()


# -- crafted datagrams: each one, then a ping answered within 1 s -----------------------------
rng = random.Random(13)
CRAFTED: dict[str, bytes] = {
    **{name: data for name, (data, _) in BAD.items()},
    "the -4 bundle, exactly": MINUS_FOUR,
    "a good ping, then -4": bundle(element(msg("/installation/ping", "x")), element(b"", -4)),
    "nested 40 deep": nested(40, msg("/installation/ping")),
    "random garbage after #bundle": HEADER + rng.randbytes(400),
    "400 empty bundles": bundle(*[element(HEADER)] * 400),
    "60 KB": b"/installation/ping\x00\x00,s\x00\x00" + b"x" * 60000 + b"\x00" * 4,
}


@pytest.mark.parametrize("name", sorted(CRAFTED))
def test_each_crafted_datagram_then_a_ping_is_answered(
    server: ControlServer, client: Client, name: str
) -> None:
    client.send(CRAFTED[name])
    assert client.ping("after " + name)
    counters = server.counters
    assert counters.get("malformed", 0) + counters.get("too_large", 0) == 1
    assert counters.get("handler_error", 0) == 0
    assert counters.get("restarts", 0) == 0


def test_all_crafted_datagrams_in_a_row_then_a_throw(
    server: ControlServer, client: Client, inbox: queue.Queue[Any]
) -> None:
    for data in CRAFTED.values():
        client.send(data)
    client.send(msg("/installation/throw", 6, 1))
    assert inbox.get(timeout=1) == ThrowCommitted(Throw((6, 1), source="osc"))
    assert client.ping("still here")
    counters = server.counters
    assert counters["malformed"] + counters["too_large"] == len(CRAFTED)
    assert counters["malformed_bad_size"] >= 8
    assert inbox.empty()  # nothing from a rejected bundle acted


def test_malformed_floods_log_a_line_per_kind(
    server: ControlServer, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING", logger="installation.osc.control"):
        flood = [bundle(element(b"", -4 * (i + 1))) for i in range(200)]  # sizes all differ
        send_paced(server, client, flood)
        assert client.ping("after the flood", within=2.0)
    assert server.counters["malformed_bad_size"] == 200
    lines = [r.getMessage() for r in caplog.records if "bad size" in r.getMessage()]
    assert len(lines) == 1


# -- reflection: replies bounded by what a source sends -----------------------------------------
def settle(server: ControlServer, client: Client, datagrams: int) -> None:
    """Wait until the server has handled every datagram, then read every reply it sent."""
    wait_for_count(server, "datagrams", datagrams)
    while len(client.received) < server.counters.get("replies", 0):
        assert client.read(2.0) is not None, "a reply counted as sent never arrived"


def test_status_flood_replies_stay_within_the_bound(server: ControlServer, client: Client) -> None:
    assert len(STATUS_REQUEST) == 28
    assert 2000 < len(status_json(BIG_STATUS)) < 2300
    started = time.monotonic()
    send_paced(server, client, [STATUS_REQUEST] * 300)
    settle(server, client, 300)
    elapsed = time.monotonic() - started
    reply_bytes = sum(map(len, client.received))
    # at most 2x the request bytes + 8 KiB + 4 KiB/s (unbounded: 77x, about 650 KB)
    assert reply_bytes <= 2 * client.sent + 8192 + 4096 * elapsed
    assert reply_bytes <= server.budget.bound(client.sent, elapsed)
    assert server.counters["replies_dropped"] > 0
    assert server.counters["replies"] + server.counters["replies_dropped"] == 300


def test_a_32_status_bundle_gets_one_reply(server: ControlServer, client: Client) -> None:
    data = bundle(*[element(STATUS_REQUEST)] * 32)
    client.send(data)
    settle(server, client, 1)
    assert len(client.received) == 1
    assert D.decode(client.received[0])[0].address == "/installation/status"
    assert server.counters["replies_dropped"] == 31


def test_a_quiet_client_still_gets_status_and_errors(server: ControlServer, client: Client) -> None:
    """The allowance: a tablet asking once a second always gets its status."""
    client.send(STATUS_REQUEST)
    reply = client.read(1.0)
    assert reply is not None and reply.address == "/installation/status"
    client.send(msg("/installation/throw", 9, 9))
    reply = client.read(1.0)
    assert reply is not None and reply.address == "/installation/error"


# -- the watchdog on the receive thread ----------------------------------------------------------
class StuckStatus:
    """A status callable that blocks on its first call until released: a stuck thread."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(self) -> dict[str, Any]:
        if not self.entered.is_set():
            self.entered.set()
            self.release.wait(30)
        return {"ok": True}


def test_a_stuck_receive_thread_is_replaced(inbox: queue.Queue[Any]) -> None:
    stuck = StuckStatus()
    s = ControlServer("127.0.0.1:0", [], inbox, stuck, dice=2, faces=6, stall_s=1.0)
    s.start()
    client = Client(s)
    try:
        client.send(STATUS_REQUEST)
        assert stuck.entered.wait(5)
        assert s.restarted.wait(10), "the watchdog did not restart the receive thread"
        assert s.address == client.to  # the same port, a new socket
        assert client.ping("after the restart")
        client.send(msg("/installation/throw", 2, 3))
        assert inbox.get(timeout=1) == ThrowCommitted(Throw((2, 3), source="osc"))
        assert s.healthy()
        assert s.counters["restarts"] == 1
        stuck.release.set()  # the old thread wakes, sees it was replaced, and stops
        wait_for_count(s, "abandoned", 1)
        assert client.read(0.3) is None  # its late status reply was never sent
    finally:
        stuck.release.set()
        client.close()
        s.stop()


class FailingRebind(ControlServer):
    """A server whose restarts cannot bind while `refuse` is set (a port taken meanwhile)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.refuse = threading.Event()

    def _open(self, where: tuple[str, int]) -> socket.socket:
        if self.refuse.is_set():
            raise OSError(98, "Address already in use")
        return super()._open(where)


def test_unhealthy_while_a_restart_fails_then_healthy_again(inbox: queue.Queue[Any]) -> None:
    stuck = StuckStatus()
    s = FailingRebind("127.0.0.1:0", [], inbox, stuck, dice=2, faces=6, stall_s=1.0)
    s.start()
    client = Client(s)
    try:
        s.refuse.set()
        client.send(STATUS_REQUEST)
        assert s.restart_failed.wait(10)
        assert not s.healthy()
        assert "unhealthy" in repr(s)
        s.refuse.clear()
        assert s.restarted.wait(10)
        assert s.healthy()
        assert client.ping("back")
        assert s.counters["restart_failed"] >= 1
    finally:
        stuck.release.set()
        client.close()
        s.stop()
