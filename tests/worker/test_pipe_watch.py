"""PipeWatcher wakes the frame loop when the child's pipe has something to read: once per
poll, never reading the pipe itself, and it ends with the pipe. Real pipes and children."""

from __future__ import annotations

import threading
from multiprocessing import Pipe

from test_worker import BEHAVING, collect, results_for, variation

from installation.worker.client import WorkerClient
from installation.worker.watch import PipeWatcher


def test_a_message_wakes_once_per_poll_and_is_left_for_the_reader() -> None:
    ours, child = Pipe()
    wake = threading.Event()
    watcher = PipeWatcher(ours, wake)
    try:
        child.send(("result", 1))
        child.send(("result", 2))
        assert wake.wait(10)
        assert watcher.wakes == 1
        wake.clear()
        assert ours.recv() == ("result", 1)  # the watcher read nothing
        watcher.polled()  # one message is still there: it wakes again
        assert wake.wait(10)
        assert ours.recv() == ("result", 2)
        assert watcher.wakes == 2
    finally:
        watcher.stop()
        watcher._thread.join(10)
        ours.close()
        child.close()
    assert not watcher._thread.is_alive()


def test_the_watcher_ends_when_the_pipe_is_closed_under_it() -> None:
    ours, child = Pipe()
    watcher = PipeWatcher(ours, threading.Event())
    ours.close()
    watcher._thread.join(10)
    assert not watcher._thread.is_alive()
    child.close()


def test_the_worker_wakes_its_owner_for_the_hello_and_each_result() -> None:
    wake = threading.Event()
    worker = WorkerClient(BEHAVING, hang_timeout_s=5.0, wake=wake)
    worker.start()
    try:
        assert wake.wait(30)  # the hello (or a heartbeat): something to read
        collect(worker, lambda _: worker.ready)
        v = variation(seed=0x5151)
        worker.request(v)
        out: list[object] = []
        while not results_for(v)(out):  # poll only when woken, as the frame loop may
            assert wake.wait(10), "the result never woke the owner"
            wake.clear()
            out += worker.poll()
    finally:
        worker.stop()
