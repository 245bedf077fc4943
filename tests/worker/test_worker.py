"""The worker process, for real: spawned children, a pipe, SIGKILL and hangs.

One child (module fixture) serves most tests; each test first waits until it is ready.
Timeouts are short (hang_timeout_s=1.5) and every wait polls against a deadline.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import engines_for_tests as engines
import numpy as np
import pytest

from installation.core.variations import RenderParams, Variation
from installation.engines.engine import EngineSpec
from installation.worker.client import WorkerClient
from installation.worker.fake import FakeWorker
from installation.worker.replies import Failure, Result, WorkerReply

PARAMS = RenderParams(strength=0.5, steps=2, guidance=1.0, width=64, height=48)
BEHAVING = EngineSpec(factory=f"{engines.__name__}:behaving")
BROKEN = EngineSpec(factory=f"{engines.__name__}:broken")


def variation(prompt: str = "calm", seed: int = 0x123456, key: str = "1-1") -> Variation:
    return Variation((1, 1), key, 1, seed, prompt, "", PARAMS)


def collect(
    worker: WorkerClient, done: Callable[[list[WorkerReply]], bool], timeout: float = 15.0
) -> list[WorkerReply]:
    """Poll like a display loop until `done(outcomes)` or the deadline."""
    out: list[WorkerReply] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out += worker.poll()
        if done(out):
            return out
        time.sleep(0.005)
    raise AssertionError(f"timed out; got {out!r}; health {worker.health()}")


def wait_ready(worker: WorkerClient) -> None:
    leftovers = collect(worker, lambda _: worker.ready and not worker.health()["busy"])
    assert all(isinstance(o, Result) for o in leftovers), leftovers


def failure_then_fallback(out: list[WorkerReply]) -> tuple[Failure, Result]:
    """The two outcomes a failed live render gives: its Failure, then a fallback Result."""
    assert len(out) == 2, out
    failure, res = out
    assert isinstance(failure, Failure) and isinstance(res, Result), out
    assert res.fallback and res.engine == "fallback" and res.variation == failure.variation
    return failure, res


def results_for(v: Variation) -> Callable[[list[WorkerReply]], bool]:
    return lambda out: any(isinstance(o, Result) and o.variation == v for o in out)


@pytest.fixture(scope="module")
def worker() -> Iterator[WorkerClient]:
    w = WorkerClient(BEHAVING, hang_timeout_s=1.5, backoff=(0.05, 0.2))
    w.start()
    yield w
    w.stop()


def test_a_request_returns_the_engines_image(worker: WorkerClient) -> None:
    wait_ready(worker)
    assert worker.engine_name == "test"
    assert worker.describe["pid"] == str(worker.health()["pid"])
    v = variation(seed=0x0A0B0C)
    worker.request(v)
    (res,) = collect(worker, results_for(v))
    assert isinstance(res, Result)
    assert (res.engine, res.fallback) == ("test", False)
    assert res.image.shape == (48, 64, 3) and res.image.dtype == np.uint8
    assert (res.image == engines.colour_of(v)).all()
    res.image[0, 0] = 0  # writable: consumers may draw on it
    assert res.ms >= 0
    assert res.describe == worker.describe and res.describe["engine"] == "test"  # what made it
    assert worker.healthy()


def test_newer_live_requests_supersede_queued_ones(worker: WorkerClient) -> None:
    wait_ready(worker)
    slow, b, c, d = (variation("slow", 1), variation(seed=2), variation(seed=3), variation(seed=4))
    x, y = variation(seed=10, key="2-2"), variation(seed=11, key="3-3")
    worker.request(slow)  # the child is idle: this one starts at once
    assert worker.health()["in_flight"] == "1-1"
    worker.request(b)
    worker.request(x, live=False)
    worker.request(c)
    worker.request(y, live=False)
    worker.request(x, live=False)  # de-duplicated
    worker.request(d)
    out = collect(worker, lambda out: len(out) >= 4)
    out += collect(worker, lambda _: not worker.health()["busy"])
    assert [o.variation.seed for o in out] == [1, 4, 10, 11]
    assert all(isinstance(o, Result) and not o.fallback for o in out)


def test_a_live_request_for_the_job_in_flight_drops_the_stale_queued_one(
    worker: WorkerClient,
) -> None:
    """A, B, then A again: the newest throw is the one rendering, so B (superseded) must
    not be rendered after it, ahead of whatever comes next."""
    wait_ready(worker)
    a, stale, after = variation("slow", 91), variation(seed=92), variation(seed=93, key="2-2")
    worker.request(a)
    assert worker.health()["in_flight"] == "1-1"
    worker.request(stale)
    worker.request(a)
    assert worker.health()["queued"] == 0
    worker.request(after, live=False)
    out = collect(worker, results_for(after))
    assert [o.variation.seed for o in out] == [91, 93]


def test_engine_errors_are_failures_then_fallback_images(worker: WorkerClient) -> None:
    wait_ready(worker)
    for prompt, kind, words in [
        ("boom", "error", "RuntimeError: boom"),
        ("oom", "oom", "OutOfMemoryError"),
        ("oom-wrapped", "oom", "EngineError: GPU out of memory"),
        ("badshape", "error", "expected uint8 (48, 64, 3)"),
    ]:
        v = variation(prompt)
        worker.request(v)
        out = collect(worker, results_for(v))
        assert len(out) == 2, out
        failure, res = out
        assert isinstance(failure, Failure) and (failure.variation, failure.kind) == (v, kind)
        assert words in failure.reason
        assert isinstance(res, Result) and (res.engine, res.fallback) == ("fallback", True)
        assert res.image.shape == (48, 64, 3)
        assert res.describe["engine"] == "fallback" and "algorithm" in res.describe
    assert worker.health()["restarts"] == 0  # the child survives its engine's errors


def test_an_unsafe_image_is_never_replaced_by_a_fallback(worker: WorkerClient) -> None:
    wait_ready(worker)
    bad, after = variation("unsafe", 7), variation(seed=8)
    worker.request(bad)
    worker.request(after, live=False)  # queued behind: proves the child moved on
    out = collect(worker, results_for(after))
    assert [type(o).__name__ for o in out] == ["Failure", "Result"]
    assert isinstance(out[0], Failure) and (out[0].kind, out[0].variation) == ("unsafe", bad)
    assert out[1].variation == after and not out[1].fallback  # type: ignore[union-attr]


def test_a_killed_child_is_restarted_and_the_wall_gets_a_fallback(
    worker: WorkerClient, caplog: pytest.LogCaptureFixture
) -> None:
    wait_ready(worker)
    restarts, pid = worker.health()["restarts"], worker.health()["pid"]
    v = variation("slow", 21)
    worker.request(v)
    os.kill(pid, signal.SIGKILL)
    out = collect(worker, results_for(v))
    failure, res = out
    assert isinstance(failure, Failure) and failure.kind == "crash" and failure.variation == v
    assert isinstance(res, Result) and res.fallback and res.variation == v
    assert f"pid {pid}" in caplog.text and "while rendering 1-1 seed 21" in caplog.text
    wait_ready(worker)
    assert worker.health()["restarts"] == restarts + 1
    assert worker.health()["pid"] != pid
    again = variation(seed=22)
    worker.request(again)
    (res,) = collect(worker, results_for(again))
    assert not res.fallback  # type: ignore[union-attr]


def test_a_child_that_exits_during_a_render_is_a_crash(worker: WorkerClient) -> None:
    wait_ready(worker)
    v = variation("crash", 31)
    worker.request(v)
    failure, res = collect(worker, results_for(v))
    assert isinstance(failure, Failure) and failure.kind == "crash"
    assert isinstance(res, Result) and res.fallback


def test_a_hung_render_is_killed_after_the_timeout_and_restarted(worker: WorkerClient) -> None:
    wait_ready(worker)
    restarts = worker.health()["restarts"]
    v, later = variation("hang", 41), variation(seed=42)
    worker.request(v)
    worker.request(later, live=False)
    out = collect(worker, results_for(v))
    failure, res = out
    assert isinstance(failure, Failure) and failure.kind == "hang"
    assert "rendering 1-1" in failure.reason
    assert isinstance(res, Result) and res.fallback
    out = collect(worker, results_for(later))  # the background job survives the restart
    assert not out[-1].fallback  # type: ignore[union-attr]
    assert worker.health()["restarts"] == restarts + 1


def test_while_starting_live_requests_get_fallback_images_and_a_broken_model_falls_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    w = WorkerClient(BROKEN, hang_timeout_s=5.0)
    caplog.set_level(logging.INFO)
    try:
        w.start()
        assert w.engine_name == "starting"
        early = variation(seed=51)
        w.request(early)
        (res,) = collect(w, results_for(early))
        assert res.fallback and res.engine == "fallback"  # type: ignore[union-attr]
        wait_ready(w)
        assert w.engine_name == "fallback" and w.describe["engine"] == "fallback"
        assert "/nowhere/model is missing" in caplog.text
        v = variation(seed=52)
        w.request(v)
        (res,) = collect(w, results_for(v))
        assert (res.engine, res.fallback) == ("fallback", False)  # type: ignore[union-attr]
    finally:
        w.stop()
    assert not w.healthy() and w.health()["alive"] is False


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"hang_timeout_s": 0}, "hang_timeout_s must be above 0"),
        ({"backoff": (2.0, 1.0)}, "0 < first <= max"),
    ],
)
def test_bad_settings_are_named(kwargs: dict[str, object], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        WorkerClient(BEHAVING, **kwargs)  # type: ignore[arg-type]


# -- the fake, and one contract for fake and real ---------------------------------------------
class FakeClock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def drive(w: Any, clock: FakeClock | None, done: Callable[[list[WorkerReply]], bool]) -> list:
    """Poll until done: the fake on its own clock (0.1 s a frame), the real one in real time."""
    if clock is None:
        return collect(w, done)
    out: list[WorkerReply] = []
    for _ in range(1000):
        out += w.poll()
        if done(out):
            return out
        clock.t += 0.1
    raise AssertionError(f"fake never finished: {out!r}")


@pytest.fixture(params=["fake", "real"])
def any_worker(request: pytest.FixtureRequest, worker: WorkerClient) -> tuple[Any, Any]:
    if request.param == "real":
        wait_ready(worker)
        return worker, None
    clock = FakeClock()
    fake = FakeWorker(clock=clock)
    fake.start()
    return fake, clock


def test_contract_supersede_and_background_order(any_worker: tuple[Any, Any]) -> None:
    w, clock = any_worker
    if clock is not None:
        w.delay(engines.SLOW_S)  # the fake's stand-in for the 'slow' prompt
    first = variation("slow", 61)
    w.request(first)
    w.poll()
    assert w.health()["in_flight"] == "1-1"
    for v, live in [(variation(seed=62), True), (variation(seed=70), False),
                    (variation(seed=63), True), (variation(seed=70), False)]:  # fmt: skip
        w.request(v, live)
    out = drive(w, clock, lambda out: len(out) >= 3)
    assert [o.variation.seed for o in out] == [61, 63, 70]
    assert all(isinstance(o, Result) and not o.fallback for o in out)
    assert out[1].image.shape == (48, 64, 3)


def test_contract_an_error_gives_a_failure_then_a_fallback(any_worker: tuple[Any, Any]) -> None:
    w, clock = any_worker
    v = variation("boom", 71)
    if clock is not None:
        w.fail_next("error", "RuntimeError: boom")
    w.request(v)
    failure, res = drive(w, clock, results_for(v))
    assert (failure.kind, failure.variation) == ("error", v)
    assert (res.engine, res.fallback, res.variation) == ("fallback", True, v)


def test_fake_records_history_and_starts_like_the_real_one() -> None:
    clock = FakeClock()
    w = FakeWorker(clock=clock, ready_after_s=1.0)
    w.start()
    assert w.engine_name == "starting" and not w.ready
    early, later, bg = variation(seed=1), variation(seed=2), variation(seed=3)
    w.request(early)
    (res,) = w.poll()
    assert isinstance(res, Result) and res.fallback and res.variation == early
    clock.t += 1.0
    w.request(bg, live=False)
    w.request(later)
    out = w.poll() + w.poll()
    assert [o.variation for o in out] == [later, bg]
    assert w.engine_name == "fake" and w.describe == {"engine": "fake"}
    assert w.history == [(early, True), (bg, False), (later, True)]
    assert w.healthy() and w.health()["renders"] == 2


def test_fake_crash_and_hang_fail_the_job_and_restart() -> None:
    clock = FakeClock()
    w = FakeWorker(clock=clock, hang_timeout_s=5.0, auto=False)
    w.start()
    w.delay(1.0)
    a, b = variation(seed=1), variation(seed=2)
    w.request(a)
    w.step()
    w.crash()
    failure, res = failure_then_fallback(w.poll())
    assert (failure.kind, res.variation) == ("crash", a)
    w.request(b)
    w.step()
    w.hang()
    clock.t += 5.0
    w.step()
    assert w.poll() == [] and not w.healthy()
    clock.t += 0.1
    w.step()
    failure, res = failure_then_fallback(w.poll())
    assert (failure.kind, res.variation) == ("hang", b)
    assert w.health()["restarts"] == 2 and w.healthy()


def test_fake_unsafe_has_no_fallback_and_bad_kinds_are_named() -> None:
    w = FakeWorker(clock=FakeClock())
    w.start()
    w.fail_next("unsafe", "flagged")
    w.request(variation(seed=5))
    (failure,) = w.poll()
    assert isinstance(failure, Failure) and failure.kind == "unsafe"
    with pytest.raises(ValueError, match="kind must be one of unsafe, oom, error, crash, hang"):
        w.fail_next("boom")


@pytest.mark.slow
def test_a_tiny_diffusers_model_renders_through_the_worker(tiny_model: Path) -> None:
    """The real engine in the real child: spec pickling, lazy torch import, pixels back."""
    spec = EngineSpec(engine="diffusers", model=tiny_model, device="cpu")
    w = WorkerClient(spec, hang_timeout_s=60.0)
    try:
        w.start()
        collect(w, lambda _: w.ready, timeout=120.0)
        assert w.engine_name == "diffusers", w.describe
        params = RenderParams(strength=0.5, steps=2, guidance=1.0, width=64, height=64)
        v = Variation((2, 3), "2-3", 9, 1234, "a red square", "", params)
        w.request(v)
        (first,) = collect(w, results_for(v), timeout=60.0)
        w.request(v)
        (second,) = collect(w, results_for(v), timeout=60.0)
        assert isinstance(first, Result) and isinstance(second, Result)
        assert (first.engine, first.fallback) == ("diffusers", False)
        assert first.image.shape == (64, 64, 3) and first.image.std() > 0
        assert first.image.tobytes() == second.image.tobytes()  # same seed, same bytes
    finally:
        w.stop()


def test_restarts_back_off_exponentially_on_the_injected_clock(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    w = WorkerClient(
        EngineSpec(factory=f"{engines.__name__}:exits"), clock=clock, backoff=(1.0, 1.5)
    )

    def crashes_seen(n: int) -> Callable[[list[WorkerReply]], bool]:
        return lambda _: caplog.text.count("; restart #") >= n and w.health()["pid"] is None

    try:
        w.start()
        live = variation(seed=81)
        w.request(live)  # nobody is ready: the fallback answers
        collect(w, results_for(live))
        collect(w, crashes_seen(1))
        assert "7); restart #1 in 1.0 s" in caplog.text or "code 7; restart #1" in caplog.text
        clock.t += 0.9
        w.poll()
        assert w.health()["restarts"] == 0  # not yet: the clock decides, not the wall time
        clock.t += 0.1
        w.poll()
        assert w.health()["restarts"] == 1 and w.health()["alive"]
        collect(w, crashes_seen(2))
        assert "restart #2 in 1.5 s" in caplog.text  # doubled, then capped at the maximum
    finally:
        w.stop()
