"""PJLink client and projector controller against a fake projector on loopback TCP."""

from __future__ import annotations

import hashlib
import logging
import socket
import socketserver
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from installation.core.schedule import Schedule
from installation.errors import ProjectorAuthError, ProjectorBusy, ProjectorError
from installation.ops.pjlink import Pacing, PJLinkSession, ProjectorController

SALT = "498e4a67"


class FakeProjector:
    """A PJLink class 1 projector: power state machine driven by what it is asked.

    `warm_queries`: POWR ? answers 3 (warming) this many times after POWR 1.
    `busy`: the next this-many POWR 1/0 commands answer ERR3.
    `silent`: accept connections and never say a word.
    """

    def __init__(self, password: str = "", busy: int = 0, warm_queries: int = 0) -> None:
        self.password = password
        self.busy = busy
        self.warm_queries = warm_queries
        self.silent = False
        self.power = "0"
        self.received: list[str] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                fake.serve(self.request)

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def serve(self, sock: socket.socket) -> None:
        if self.silent:
            while sock.recv(64):
                pass
            return
        sock.sendall(f"PJLINK 1 {SALT}\r".encode() if self.password else b"PJLINK 0\r")
        first = True
        for line in _lines(sock):
            if first and self.password:
                digest = hashlib.md5((SALT + self.password).encode()).hexdigest()
                if line[:32] != digest:
                    sock.sendall(b"PJLINK ERRA\r")
                    return
                line = line[32:]
            first = False
            with self.lock:
                self.received.append(line)
                sock.sendall(f"{self._answer(line)}\r".encode())

    def _answer(self, line: str) -> str:
        if not line.startswith("%1POWR "):
            return line.split(" ")[0] + "=ERR1"
        arg = line[7:]
        if arg == "?":
            if self.power == "3":
                self.warm_queries -= 1
                if self.warm_queries <= 0:
                    self.power = "1"
                return "%1POWR=3"
            return f"%1POWR={self.power}"
        if self.busy:
            self.busy -= 1
            return "%1POWR=ERR3"
        if arg == "1":
            self.power = "3" if self.warm_queries else "1"
        elif arg == "0":
            self.power = "0"
        else:
            return "%1POWR=ERR2"
        return "%1POWR=OK"


def _lines(sock: socket.socket) -> Iterator[str]:
    """PJLink lines end in a carriage return only."""
    buffer = b""
    while chunk := sock.recv(256):
        buffer += chunk
        while b"\r" in buffer:
            line, _, buffer = buffer.partition(b"\r")
            yield line.decode()


@pytest.fixture
def projector() -> Iterator[FakeProjector]:
    p = FakeProjector()
    yield p
    p.close()


@pytest.fixture
def locked() -> Iterator[FakeProjector]:
    p = FakeProjector(password="JBMIAProjectorLink")
    yield p
    p.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- the client ----------------------------------------------------------------------------
def test_query_and_switch_without_password(projector: FakeProjector) -> None:
    with PJLinkSession("127.0.0.1", projector.port) as s:
        assert s.command("POWR ?") == "0"
        assert s.command("POWR 1") == "OK"
        assert s.command("POWR ?") == "1"
    assert projector.received == ["%1POWR ?", "%1POWR 1", "%1POWR ?"]


def test_password_digest_goes_with_the_first_command_only(locked: FakeProjector) -> None:
    with PJLinkSession("127.0.0.1", locked.port, "JBMIAProjectorLink") as s:
        assert s.command("POWR 1") == "OK"
        assert s.command("POWR ?") == "1"  # the fake refuses a digest here: it was not sent
    assert locked.received == ["%1POWR 1", "%1POWR ?"]


def test_wrong_password_is_an_auth_error(locked: FakeProjector) -> None:
    with (
        pytest.raises(ProjectorAuthError, match="wrong PJLink password"),
        PJLinkSession("127.0.0.1", locked.port, "guess") as s,
    ):
        s.command("POWR ?")
    assert locked.power == "0"


def test_missing_password_says_what_to_set(locked: FakeProjector) -> None:
    with pytest.raises(ProjectorAuthError, match="set password"):
        PJLinkSession("127.0.0.1", locked.port).__enter__()


def test_err3_is_busy(projector: FakeProjector) -> None:
    projector.busy = 1
    with PJLinkSession("127.0.0.1", projector.port) as s:
        with pytest.raises(ProjectorBusy, match="unavailable time"):
            s.command("POWR 1")
        assert s.command("POWR 1") == "OK"


def test_other_errors_are_named(projector: FakeProjector) -> None:
    with (
        PJLinkSession("127.0.0.1", projector.port) as s,
        pytest.raises(ProjectorError, match="parameter out of range"),
    ):
        s.command("POWR 7")


def test_silent_projector_times_out(projector: FakeProjector) -> None:
    projector.silent = True
    with pytest.raises(ProjectorError, match=r"no answer within 0.2 s"):
        PJLinkSession("127.0.0.1", projector.port, timeout=0.2).__enter__()


def test_connection_refused_is_a_projector_error() -> None:
    with pytest.raises(ProjectorError, match="cannot connect"):
        PJLinkSession("127.0.0.1", free_port(), timeout=0.5).__enter__()


def test_not_a_projector() -> None:
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen()

        def greet() -> None:
            conn, _ = srv.accept()
            conn.sendall(b"SSH-2.0-OpenSSH\r\n")
            conn.close()

        threading.Thread(target=greet, daemon=True).start()
        with pytest.raises(ProjectorError, match="not a PJLink greeting"):
            PJLinkSession("127.0.0.1", srv.getsockname()[1], timeout=1).__enter__()


# -- the controller on fake clocks ---------------------------------------------------------
@dataclass(frozen=True)
class Entry:
    name: str
    host: str
    port: int
    password: str = ""


class Clocks:
    def __init__(self, wall: datetime) -> None:
        self.t = 0.0
        self.wall = wall

    def advance(self, seconds: float) -> None:
        self.t += seconds
        self.wall += timedelta(seconds=seconds)


# Monday 2026-06-01, open 10:00-18:00 UTC, 30 min warm-up
SCHEDULE = Schedule.build("UTC", {"monday": "10:00-13:00, 14:00-18:00"}, warmup_minutes=30)


def controller(
    entries: list[Entry],
    clocks: Clocks,
    on_fault: Callable[[str, str], None] | None = None,
    **pacing: float,
) -> ProjectorController:
    return ProjectorController(
        entries,
        SCHEDULE,
        clock=lambda: clocks.t,
        wall=lambda: clocks.wall,
        pacing=Pacing(timeout_s=0.3, **pacing),
        on_fault=on_fault,
    )


def test_on_during_warmup_off_after_closing(projector: FakeProjector) -> None:
    clocks = Clocks(datetime(2026, 6, 1, 9, 0, tzinfo=UTC))
    c = controller([Entry("left", "127.0.0.1", projector.port)], clocks)
    c.step()
    assert projector.power == "0"
    assert c.status()["left"] == {
        "host": f"127.0.0.1:{projector.port}",
        "wanted": "off",
        "power": "off",
        "error": None,
        "failures": 0,
    }
    clocks.advance(31 * 60)  # 09:31: warm-up
    c.step()
    assert projector.power == "1"
    clocks.advance(9 * 3600)  # 18:31: closed until tomorrow
    c.step()
    assert projector.power == "0"
    assert c.status()["left"]["power"] == "cooling"


def test_short_closed_gap_leaves_projectors_alone(projector: FakeProjector) -> None:
    clocks = Clocks(datetime(2026, 6, 1, 13, 1, tzinfo=UTC))  # lunch: warm-up again at 13:30
    projector.power = "1"
    c = controller([Entry("left", "127.0.0.1", projector.port)], clocks)
    c.step()
    assert projector.power == "1"
    assert c.status()["left"]["wanted"] == "either"


def test_err3_during_warmup_backs_off_then_follows_until_on() -> None:
    fake = FakeProjector(password="pw", busy=2, warm_queries=2)
    try:
        clocks = Clocks(datetime(2026, 6, 1, 9, 45, tzinfo=UTC))
        c = controller([Entry("left", "127.0.0.1", fake.port, "pw")], clocks)
        c.step()  # ERR3
        assert c.status()["left"]["failures"] == 1
        assert "unavailable time" in c.status()["left"]["error"]
        clocks.advance(1.0)
        c.step()  # backing off (2 s): not visited
        assert fake.received.count("%1POWR 1") == 1
        clocks.advance(1.0)
        c.step()  # ERR3 again, backoff now 4 s
        clocks.advance(4.0)
        c.step()  # accepted: warming
        assert fake.power == "3"
        assert c.status()["left"] == {
            "host": f"127.0.0.1:{fake.port}",
            "wanted": "on",
            "power": "warming",
            "error": None,
            "failures": 0,
        }
        for _ in range(3):
            clocks.advance(5.0)
            c.step()
        assert c.status()["left"]["power"] == "on"
        assert fake.received.count("%1POWR 1") == 3
    finally:
        fake.close()


def test_failures_are_logged_once_and_shown_in_status(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clocks = Clocks(datetime(2026, 6, 1, 11, 0, tzinfo=UTC))
    c = controller([Entry("gone", "127.0.0.1", free_port())], clocks)
    with caplog.at_level(logging.WARNING, logger="installation.ops.pjlink"):
        for _ in range(6):
            c.step()
            clocks.advance(130.0)  # past every backoff: each step visits
    status = c.status()["gone"]
    assert status["failures"] == 6
    assert "cannot connect" in status["error"]
    assert len([r for r in caplog.records if "gone" in r.getMessage()]) == 1


def test_wrong_password_and_silence_in_status(locked: FakeProjector) -> None:
    silent = FakeProjector()
    silent.silent = True
    try:
        clocks = Clocks(datetime(2026, 6, 1, 11, 0, tzinfo=UTC))
        c = controller(
            [
                Entry("locked", "127.0.0.1", locked.port, "nope"),
                Entry("silent", "127.0.0.1", silent.port),
            ],
            clocks,
        )
        c.step()
        status = c.status()
        assert "wrong PJLink password" in status["locked"]["error"]
        assert "no answer" in status["silent"]["error"]
        assert locked.power == "0"
    finally:
        silent.close()


def test_thread_powers_on_and_stops(projector: FakeProjector) -> None:
    c = ProjectorController(
        [Entry("left", "127.0.0.1", projector.port)],
        Schedule.always_open(),
        pacing=Pacing(timeout_s=0.5),
    )
    c.start()
    try:
        for _ in range(200):  # the first step runs at once; this only waits for the thread
            if projector.power == "1":
                break
            threading.Event().wait(0.01)
        assert projector.power == "1"
    finally:
        c.stop()
    assert not c.running


def test_a_projector_failure_reaches_the_status_errors_once() -> None:
    from installation.ops.status import StatusBoard

    board = StatusBoard(show="t")
    clocks = Clocks(datetime(2026, 6, 1, 11, 0, tzinfo=UTC))
    c = controller([Entry("gone", "127.0.0.1", free_port())], clocks, board.error)
    for _ in range(4):
        c.step()
        clocks.advance(130.0)
    snap = board.snapshot()
    assert snap["faults"] == {"projector": 1}  # logged once: reported once
    assert "projector gone: " in snap["last_error_by_kind"]["projector"]["message"]
