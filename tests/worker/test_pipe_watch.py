"""The worker pipe wakes the frame loop when the child has sent something that matters (a
hello, a started job, a result, a failure; not a heartbeat), after the message can be
taken, so a woken poll always finds it. Real socket pairs and a real child."""

from __future__ import annotations

import socket
import threading
import time
from multiprocessing.connection import Connection

from test_worker import BEHAVING, collect, results_for, variation

from installation.worker.client import WorkerClient
from installation.worker.pipe import ChildPipe

DEADLINE_S = 10.0


def test_a_message_wakes_the_owner_and_is_there_to_take() -> None:
    ours, theirs = socket.socketpair()
    peer = Connection(theirs.detach())
    wake = threading.Event()
    pipe = ChildPipe(Connection(ours.detach()), name="test", wake=wake)
    try:
        peer.send(("started", 1))
        assert wake.wait(DEADLINE_S), "a message did not wake the owner"
        messages, lost = pipe.take(8)
        assert [m for m, _ in messages] == [("started", 1)] and lost is None
    finally:
        pipe.close()
        peer.close()
    assert pipe.join(DEADLINE_S)


def test_heartbeats_do_not_wake_the_owner() -> None:
    ours, theirs = socket.socketpair()
    peer = Connection(theirs.detach())
    wake = threading.Event()
    pipe = ChildPipe(Connection(ours.detach()), name="test", wake=wake)
    try:
        for _ in range(3):
            peer.send(("beat",))
        peer.send(("failure", 7, "error", "boom"))  # the marker: everything before is read
        assert wake.wait(DEADLINE_S)
        taken: list[object] = []
        while len(taken) < 4:  # every message is queued before the marker's wake
            messages, _ = pipe.take(8)
            assert messages, "the heartbeats before the marker were not queued"
            taken += [m[0] for m, _ in messages]
        assert taken == ["beat", "beat", "beat", "failure"]
        wake.clear()
        peer.send(("beat",))
        peer.send(("beat",))
        peer.close()  # then the end of the pipe: the loss is reported, with no wake
        lost = None
        for _ in range(1000):  # at most ~10 s: the loss comes after the heartbeats
            _, lost = pipe.take(8)
            if lost is not None:
                break
            time.sleep(0.01)
        assert lost == "EOFError"
        assert not wake.is_set(), "a heartbeat woke the owner"
    finally:
        pipe.close()
    assert pipe.join(DEADLINE_S)


def test_the_worker_wakes_its_owner_for_the_hello_and_each_result() -> None:
    wake = threading.Event()
    worker = WorkerClient(BEHAVING, hang_timeout_s=5.0, wake=wake)
    worker.start()
    try:
        assert wake.wait(30)  # the hello
        collect(worker, lambda _: worker.ready)
        v = variation(seed=0x5151)
        worker.request(v)
        out: list[object] = []
        while not results_for(v)(out):  # poll only when woken, as the frame loop may
            assert wake.wait(DEADLINE_S), "the result never woke the owner"
            wake.clear()
            out += worker.poll()
    finally:
        worker.stop()


def test_messages_reach_the_child_whole_and_in_order_whether_sent_at_once_or_queued() -> None:
    """send() writes at once when the socket takes it, hands the rest of a message the
    socket took only part of to the writer thread, and queues behind anything queued: a
    peer that reads nothing at first, then reads while more is sent, gets every message,
    whole, in order."""
    ours, theirs = socket.socketpair()
    peer = Connection(theirs.detach())
    pipe = ChildPipe(Connection(ours.detach()), name="test")
    sizes = [(i * 7919) % 90_000 + 1 for i in range(240)]  # far more than the socket holds
    try:
        sent = [threading.Event(), threading.Event()]

        def flood(half: int) -> None:
            for i in range(half * 120, half * 120 + 120):
                pipe.send(("render", i, b"x" * sizes[i]))
            sent[half].set()

        threading.Thread(target=flood, args=(0,), daemon=True).start()
        assert sent[0].wait(DEADLINE_S), "send() waited for a peer that does not read"
        threading.Thread(target=flood, args=(1,), daemon=True).start()  # while the peer reads
        got = []
        for _ in sizes:
            assert peer.poll(DEADLINE_S), f"message {len(got)} never came"
            got.append(peer.recv())
        assert sent[1].wait(DEADLINE_S)
        assert [m[1] for m in got] == list(range(len(sizes)))
        assert [len(m[2]) for m in got] == sizes
        assert all(m[0] == "render" and isinstance(m[3], float) for m in got)  # sent stamp
        pipe.send(("stop",))  # a quiet socket again: sent at once, unstamped
        assert peer.poll(DEADLINE_S) and peer.recv() == ("stop",)
    finally:
        pipe.close()
        peer.close()
    assert pipe.join(DEADLINE_S)
