"""Notifier against real AF_UNIX datagram sockets (path and abstract namespace)."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from installation.ops.notify import Notifier, watchdog_interval


@pytest.fixture
def path_socket(tmp_path: Path) -> Iterator[tuple[str, socket.socket]]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    address = str(tmp_path / "notify")
    sock.bind(address)
    sock.settimeout(2)
    yield address, sock
    sock.close()


@pytest.fixture
def abstract_socket() -> Iterator[tuple[str, socket.socket]]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    name = f"installation-test-{os.getpid()}-{id(sock)}"
    sock.bind("\0" + name)
    sock.settimeout(2)
    yield "@" + name, sock
    sock.close()


def _receive_all(notifier: Notifier, sock: socket.socket) -> list[bytes]:
    assert notifier.ready("loading done")
    assert notifier.status("presenting\nvariation 7")
    assert notifier.extend_timeout(90.5)
    assert notifier.watchdog()
    assert notifier.stopping()
    return [sock.recv(4096) for _ in range(5)]


@pytest.mark.parametrize("which", ["path_socket", "abstract_socket"])
def test_messages_arrive_as_datagrams(which: str, request: pytest.FixtureRequest) -> None:
    address, sock = request.getfixturevalue(which)
    notifier = Notifier(address)
    got = _receive_all(notifier, sock)
    assert got == [
        b"READY=1\nSTATUS=loading done",
        b"STATUS=presenting variation 7",  # a newline would end the field: flattened
        b"EXTEND_TIMEOUT_USEC=90500000",
        b"WATCHDOG=1",
        b"STOPPING=1",
    ]
    assert (notifier.sent, notifier.errors) == (5, 0)
    notifier.close()


def test_environment_variable_is_used(
    path_socket: tuple[str, socket.socket], monkeypatch: pytest.MonkeyPatch
) -> None:
    address, sock = path_socket
    monkeypatch.setenv("NOTIFY_SOCKET", address)
    notifier = Notifier()
    assert notifier.enabled
    notifier.watchdog()
    assert sock.recv(100) == b"WATCHDOG=1"


def test_unset_socket_is_a_silent_no_op(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    notifier = Notifier()
    assert not notifier.enabled
    assert notifier.ready() is False
    assert (notifier.sent, notifier.errors) == (0, 0)


def test_missing_socket_is_counted_never_raised(tmp_path: Path) -> None:
    notifier = Notifier(str(tmp_path / "gone"))
    assert notifier.watchdog() is False
    assert notifier.watchdog() is False
    assert notifier.errors == 2
    assert "FileNotFoundError" in notifier.last_error


def test_recovers_when_the_socket_appears_later(tmp_path: Path) -> None:
    address = str(tmp_path / "late")
    notifier = Notifier(address)
    assert not notifier.watchdog()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    sock.settimeout(2)
    try:
        assert notifier.watchdog()
        assert sock.recv(100) == b"WATCHDOG=1"
    finally:
        sock.close()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"WATCHDOG_USEC": "30000000"}, 15.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1234"}, 15.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "999"}, None),  # someone else's
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "x"}, None),
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "soon"}, None),
        ({}, None),
    ],
)
def test_watchdog_interval(env: dict[str, str], expected: float | None) -> None:
    assert watchdog_interval(env, pid=1234) == expected


def test_watchdog_interval_defaults_to_our_pid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "2000000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    assert watchdog_interval() == 1.0
