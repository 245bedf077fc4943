"""A lost worker child is always ended and reaped, and never holds the frame.

Real spawned children that are stopped (SIGSTOP), stop half-way through a message,
lose their pipe while alive, hang and crash. "Gone" is checked in /proc: a reaped
child has no /proc/<pid> at all (a zombie still has one, in state Z).
Every poll() runs in a helper thread with a deadline, so a poll that blocks fails the
test instead of hanging it.
"""

from __future__ import annotations

import os
import signal
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import engines_for_tests as engines
import pytest

from installation.core.variations import RenderParams, Variation
from installation.engines.engine import EngineSpec
from installation.worker.client import WorkerClient
from installation.worker.pipe import ChildPipe
from installation.worker.replies import Failure, Result, WorkerReply

PARAMS = RenderParams(strength=0.5, steps=2, guidance=1.0, width=64, height=48)
BEHAVING = EngineSpec(factory=f"{engines.__name__}:behaving")
POLL_DEADLINE_S = 5.0  # a poll is a few ms; one that takes this long has blocked


def variation(prompt: str, seed: int) -> Variation:
    return Variation((1, 1), "1-1", 1, seed, prompt, "", PARAMS)


def proc_state(pid: int) -> str:
    """One letter (R, S, T stopped, Z zombie ...) or '' when /proc/<pid> is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return ""


def poll_once(worker: WorkerClient) -> list[WorkerReply]:
    """One poll, which must return within POLL_DEADLINE_S."""
    out: list[WorkerReply] = []
    done = threading.Event()

    def run() -> None:
        out.extend(worker.poll())
        done.set()

    threading.Thread(target=run, daemon=True).start()
    assert done.wait(POLL_DEADLINE_S), f"poll() blocked for {POLL_DEADLINE_S} s: {worker!r}"
    return out


def poll_until(
    worker: WorkerClient, done: Callable[[list[WorkerReply]], bool], timeout: float = 20.0
) -> list[WorkerReply]:
    """Poll like a display loop (never blocking) until `done(outcomes)` or the deadline."""
    out: list[WorkerReply] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out += poll_once(worker)
        if done(out):
            return out
        time.sleep(0.005)
    raise AssertionError(f"timed out; got {out!r}; health {worker.health()}")


def wait_ready(worker: WorkerClient) -> int:
    poll_until(worker, lambda _: worker.ready and not worker.health()["busy"])
    pid = worker.health()["pid"]
    assert isinstance(pid, int)
    return pid


def gone(pid: int) -> Callable[[list[WorkerReply]], bool]:
    return lambda _: proc_state(pid) == ""


def fallback_for(v: Variation) -> Callable[[list[WorkerReply]], bool]:
    return lambda out: any(isinstance(o, Result) and o.variation == v for o in out)


@pytest.fixture(scope="module")
def worker() -> Iterator[WorkerClient]:
    w = WorkerClient(BEHAVING, hang_timeout_s=1.0, backoff=(0.05, 0.2))
    w.start()
    yield w
    w.stop()


@pytest.fixture(autouse=True)
def _no_stopped_child_left(worker: WorkerClient) -> Iterator[None]:
    """Whatever a test does, it leaves no stopped child behind (a failed check, say)."""
    yield
    pid = worker.health()["pid"]
    if isinstance(pid, int) and proc_state(pid) == "T":
        os.kill(pid, signal.SIGKILL)


def test_a_child_stopped_half_way_through_a_message_never_holds_the_frame(
    worker: WorkerClient, caplog: pytest.LogCaptureFixture
) -> None:
    """The soak's 15 s frame stall: a header promising 1 MiB, 10 bytes, then SIGSTOP. The
    parent used to read the rest with blocking reads on the frame thread."""
    pid = wait_ready(worker)
    v = variation("half", 61)
    worker.request(v)
    poll_until(worker, lambda _: proc_state(pid) == "T")  # it has stopped itself
    out = poll_until(worker, fallback_for(v))
    failure, res = out
    assert isinstance(failure, Failure) and failure.kind == "hang"
    assert isinstance(res, Result) and res.fallback
    poll_until(worker, gone(pid))
    assert wait_ready(worker) != pid
    assert f"pid {pid}" in caplog.text


def test_a_stopped_idle_child_is_killed_and_reaped(worker: WorkerClient) -> None:
    pid = wait_ready(worker)
    restarts = worker.health()["restarts"]
    os.kill(pid, signal.SIGSTOP)
    poll_until(worker, gone(pid))
    assert wait_ready(worker) != pid
    assert worker.health()["restarts"] == restarts + 1


def test_a_live_child_that_loses_its_pipe_is_killed_and_reaped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """EOF while the child is alive and stopped ("lost its pipe (EOFError, exit None)" in
    the soak's log): the child must not be left stopped and alive. (A long hang timeout:
    the loss, not a slow helper process on a busy machine, must be what ends it.)"""
    w = WorkerClient(BEHAVING, hang_timeout_s=30.0, backoff=(0.05, 0.2))
    w.start()
    try:
        pid = wait_ready(w)
        v = variation("vanish", 71)
        w.request(v)
        out = poll_until(w, fallback_for(v), timeout=40.0)
        failure, res = out
        assert isinstance(failure, Failure) and failure.kind == "crash"
        assert "lost its pipe (EOFError, exit None)" in failure.reason
        assert isinstance(res, Result) and res.fallback
        poll_until(w, gone(pid))
        assert wait_ready(w) != pid
    finally:
        w.stop()


def test_a_hung_render_and_a_crash_leave_no_process_behind(worker: WorkerClient) -> None:
    for prompt, kind in (("hang", "hang"), ("crash", "crash")):
        pid = wait_ready(worker)
        v = variation(prompt, 81)
        worker.request(v)
        out = poll_until(worker, fallback_for(v))
        assert isinstance(out[0], Failure) and out[0].kind == kind
        poll_until(worker, gone(pid))


def test_stop_ends_and_reaps_a_stopped_child() -> None:
    w = WorkerClient(BEHAVING, hang_timeout_s=30.0)
    w.start()
    try:
        pid = wait_ready(w)
        os.kill(pid, signal.SIGSTOP)  # hung for good: SIGTERM alone would never land
    finally:
        w.stop(timeout_s=1.0)
    assert proc_state(pid) == ""
    assert w.health()["alive"] is False


def test_stop_while_a_killed_child_is_being_reaped() -> None:
    w = WorkerClient(BEHAVING, hang_timeout_s=0.5, backoff=(5.0, 5.0))
    w.start()
    try:
        pid = wait_ready(w)
        os.kill(pid, signal.SIGSTOP)
        poll_until(w, lambda _: w.health()["state"] in ("killing", "down"))
    finally:
        w.stop(timeout_s=1.0)
    assert proc_state(pid) == ""


# -- the pipe on its own, with a real socket pair --------------------------------------------
def test_the_pipe_never_blocks_on_a_peer_that_stops_reading_or_writing() -> None:
    ours, theirs = socket.socketpair()
    from multiprocessing.connection import Connection

    pipe = ChildPipe(Connection(ours.detach()), name="test")
    try:
        sent = threading.Event()

        def flood() -> None:  # far more than any socket buffer holds: the peer reads nothing
            for i in range(200):
                pipe.send(("render", i, b"x" * 65536))
            sent.set()

        threading.Thread(target=flood, daemon=True).start()
        assert sent.wait(POLL_DEADLINE_S), "send() blocked on a peer that does not read"
        theirs.sendall(struct.pack("!i", 1 << 20) + b"\x80" * 10)  # half a message
        assert pipe.take(8) == ([], None)  # nothing whole yet, and no wait for the rest
        pipe.close()
        assert pipe.join(POLL_DEADLINE_S), "close() did not end the pipe's threads"
    finally:
        theirs.close()


def test_messages_before_the_end_of_the_pipe_come_first() -> None:
    ours, theirs = socket.socketpair()
    from multiprocessing.connection import Connection

    peer = Connection(theirs.detach())
    pipe = ChildPipe(Connection(ours.detach()), name="test")
    peer.send(("beat",))
    peer.send(("hello", "test", {}, ""))
    peer.close()
    taken: list[object] = []
    deadline = time.monotonic() + POLL_DEADLINE_S
    while time.monotonic() < deadline:  # one message per take, and the loss after them
        messages, lost = pipe.take(1)
        taken += [m[0] for m, _ in messages]
        if lost is not None:
            taken.append(lost)
            break
        time.sleep(0.01)
    assert taken == ["beat", "hello", "EOFError"]
    pipe.close()
    assert pipe.join(POLL_DEADLINE_S)
