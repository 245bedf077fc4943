"""Waiting on the event a test means, with a deadline: the one poll helper of the suite.

Tests never sleep to decide an outcome; they wait for a condition another thread or
process makes true and fail, saying what they waited for, when the deadline passes.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def poll(
    done: Callable[[], T],
    timeout: float = 5.0,
    *,
    step: Callable[[], object] | None = None,
    interval: float | None = None,
) -> T | None:
    """The first truthy value of `done()` within `timeout` seconds, else None. Between
    checks it sleeps `interval` (10 ms), or runs `step` (an app's frame loop driven by the
    test), then sleeps only if an interval is given."""
    deadline = time.monotonic() + timeout
    while True:
        value = done()
        if value:
            return value
        if time.monotonic() > deadline:
            return None
        if step is None:
            time.sleep(0.01 if interval is None else interval)
            continue
        step()
        if interval:
            time.sleep(interval)


def wait_until(
    done: Callable[[], T],
    timeout: float = 10.0,
    what: str = "",
    *,
    step: Callable[[], object] | None = None,
    interval: float | None = None,
) -> T:
    """`done()`'s first truthy value; AssertionError naming `what` at the deadline."""
    value = poll(done, timeout, step=step, interval=interval)
    if not value:
        name = what or getattr(done, "__name__", "the condition")
        raise AssertionError(f"timed out after {timeout:g} s waiting for {name}")
    return value


def next_from(inbox: queue.Queue[Any], match: Callable[[Any], bool], timeout: float = 5.0) -> Any:
    """Take items from a queue until one matches; fail naming what arrived instead."""
    seen: list[Any] = []
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            item = inbox.get(timeout=min(left, 0.05))
        except queue.Empty:
            continue
        if match(item):
            return item
        seen.append(item)
    raise AssertionError(f"nothing matching within {timeout:g} s; got {seen[:20]}")


def within(fn: Callable[[], T], timeout: float, what: str = "") -> T | BaseException:
    """fn()'s result, or what it raised, from a thread joined with a deadline: a hang
    fails the test (saying what still ran) instead of hanging the suite."""
    out: list[T | BaseException] = []

    def run() -> None:
        try:
            out.append(fn())
        except BaseException as e:  # handed to the test thread
            out.append(e)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), f"{what or 'still'} running after {timeout:g} s"
    return out[0]
