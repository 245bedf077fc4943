"""A model that does not load: the fallback renders, the fault is said once, and the model
is tried again (every period, and when asked) until it takes over, with no restart.

Real children: the tiny diffusers model appearing late (a model disk that mounts after
boot), and a test engine that loads once its folder exists, on an injected clock.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import engines_for_tests as engines
import pytest

from installation.core.variations import RenderParams, Variation
from installation.engines.engine import EngineSpec
from installation.worker.client import WorkerClient
from installation.worker.replies import Failure, Result, WorkerReply

NEEDS_MODEL = f"{engines.__name__}:needs_model"


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def variation(seed: int, size: int = 64) -> Variation:
    params = RenderParams(strength=0.5, steps=2, guidance=1.0, width=size, height=size)
    return Variation((2, 3), "2-3", 9, seed, "a red square", "", params)


def collect(
    worker: WorkerClient, done: Callable[[list[WorkerReply]], bool], timeout: float = 30.0
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


def result_for(out: list[WorkerReply], v: Variation) -> Result:
    (res,) = [o for o in out if o.variation == v]
    assert isinstance(res, Result), res
    return res


def gone(pid: int) -> bool:
    """The process is neither running nor a zombie (it was reaped)."""
    return not Path(f"/proc/{pid}").exists()


def mount(src: Path, dest: Path) -> None:
    """The model appears at once, as when its disk mounts (never half-copied)."""
    staging = dest.parent / f".{dest.name}.copying"
    shutil.copytree(src, staging)
    os.rename(staging, dest)


@pytest.fixture
def reports() -> list[tuple[str, str]]:
    return []


@pytest.fixture
def worker_for(
    reports: list[tuple[str, str]],
) -> Iterator[Callable[..., WorkerClient]]:
    made: list[WorkerClient] = []

    def make(spec: EngineSpec, **kw: object) -> WorkerClient:
        w = WorkerClient(spec, report=lambda kind, msg: reports.append((kind, msg)), **kw)  # type: ignore[arg-type]
        made.append(w)
        w.start()
        return w

    yield make
    for w in made:
        w.stop()


@pytest.mark.slow
def test_a_model_disk_that_mounts_late_takes_over_from_the_fallback(
    tiny_model: Path,
    tmp_path: Path,
    worker_for: Callable[..., WorkerClient],
    reports: list[tuple[str, str]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    model = tmp_path / "disk" / "tiny-sd"
    model.parent.mkdir()
    spec = EngineSpec(engine="auto", model=model, device="cpu")
    w = worker_for(spec, hang_timeout_s=60.0, retry_s=1.0)
    collect(w, lambda _: w.ready)
    assert w.engine_name == "fallback"
    health = w.health()
    assert health["degraded"] is True
    assert health["model"] == (
        f"FAIL: {model} not found: mount the model disk or fix the show's model paths"
    )
    assert reports == [
        (
            "engine",
            f"FAIL: engine auto did not load: {model} not found: mount the model disk or "
            "fix the show's model paths. The fallback engine renders meanwhile; tried again "
            "every 1 s and on reload",
        )
    ]
    first = variation(1)
    w.request(first)
    res = result_for(collect(w, lambda out: len(out) >= 1), first)
    assert (res.engine, res.fallback) == ("fallback", False)  # the child's fallback engine

    # Two retry periods with the model still missing: no child is started for nothing.
    pid = health["pid"]
    deadline = time.monotonic() + 2.5
    while time.monotonic() < deadline:
        w.poll()
        time.sleep(0.01)
    assert (w.health()["pid"], w.health()["engine_retries"], w.engine_name) == (pid, 0, "fallback")

    mount(tiny_model, model)
    collect(w, lambda _: w.engine_name == "diffusers", timeout=120.0)
    health = w.health()
    assert health["degraded"] is False and "model" not in health
    assert health["engine_retries"] == 1 and health["restarts"] == 0
    assert "the model loaded; engine diffusers took over" in caplog.text
    assert len(reports) == 1  # the recovery is no fault
    second = variation(2)
    w.request(second)
    res = result_for(collect(w, lambda out: len(out) >= 1, timeout=60.0), second)
    assert (res.engine, res.fallback) == ("diffusers", False)
    assert res.image.shape == (64, 64, 3)
    collect(w, lambda _: gone(pid))  # the fallback child was killed and reaped


def test_engine_diffusers_without_its_model_is_degraded_not_stopped(
    tmp_path: Path, worker_for: Callable[..., WorkerClient], reports: list[tuple[str, str]]
) -> None:
    """The real engine build in the real child: said before any torch import, so fast."""
    model = tmp_path / "nowhere" / "sd"
    w = worker_for(EngineSpec(engine="diffusers", model=model), retry_s=60.0)
    collect(w, lambda _: w.ready)
    assert w.engine_name == "fallback"
    health = w.health()
    assert health["degraded"] is True and health["model"].startswith(f"FAIL: {model} not found")
    ((kind, message),) = reports
    assert kind == "engine" and message.startswith("FAIL: engine diffusers did not load: ")
    v = variation(4)
    w.request(v)
    assert result_for(collect(w, lambda out: len(out) >= 1), v).engine == "fallback"


def test_a_retry_waits_for_the_render_in_flight(
    tmp_path: Path, worker_for: Callable[..., WorkerClient]
) -> None:
    clock = Clock()
    model = tmp_path / "model"
    spec = EngineSpec(model=model, factory=NEEDS_MODEL)
    w = worker_for(spec, clock=clock, hang_timeout_s=1000.0, retry_s=60.0)
    collect(w, lambda _: w.ready)
    assert w.engine_name == "fallback" and w.health()["next_try_in_s"] == 60.0
    model.mkdir()
    big = variation(3, size=1024)  # about half a second for the fallback engine
    w.request(big)
    assert w.health()["busy"]
    clock.t += 61.0  # the retry is due while the render is in flight
    out = w.poll()
    if not out:  # still rendering: the child must not have been replaced under it
        assert w.health()["state"] == "ready" and w.health()["engine_retries"] == 0
    out += collect(w, lambda got: any(o.variation == big for o in got))
    res = result_for(out, big)
    assert (res.engine, res.fallback) == ("fallback", False)  # finished by the old child
    assert not any(isinstance(o, Failure) for o in out)
    collect(w, lambda _: w.engine_name == "test")
    assert w.health()["engine_retries"] == 1 and w.health()["degraded"] is False


def test_a_reload_asks_for_a_retry_at_once_and_only_when_it_can_help(
    tmp_path: Path,
    worker_for: Callable[..., WorkerClient],
    reports: list[tuple[str, str]],
) -> None:
    clock = Clock()
    model = tmp_path / "model"
    w = worker_for(EngineSpec(model=model, factory=NEEDS_MODEL), clock=clock, retry_s=60.0)
    collect(w, lambda _: w.ready)
    pid = w.health()["pid"]
    assert w.retry_engine() is True  # asked, but the model is still not there
    w.poll()
    health = w.health()
    assert (health["pid"], health["engine_retries"], health["state"]) == (pid, 0, "ready")
    model.mkdir()
    assert w.retry_engine() is True  # no clock advance: the reload alone brings it back
    collect(w, lambda _: w.engine_name == "test")
    assert w.health()["engine_retries"] == 1
    assert w.retry_engine() is False  # nothing to retry any more
    assert [kind for kind, _ in reports] == ["engine"]


def test_a_worker_whose_engine_loads_has_nothing_to_retry(
    worker_for: Callable[..., WorkerClient], reports: list[tuple[str, str]]
) -> None:
    w = worker_for(EngineSpec(factory=f"{engines.__name__}:behaving"))
    collect(w, lambda _: w.ready)
    assert w.health()["degraded"] is False and w.retry_engine() is False
    assert reports == []


def test_an_upscaler_that_did_not_load_or_failed_mid_run_is_reported_once_each(
    worker_for: Callable[..., WorkerClient], reports: list[tuple[str, str]]
) -> None:
    w = worker_for(EngineSpec(factory=f"{engines.__name__}:losing_upscaler"))
    collect(w, lambda _: w.ready)
    assert reports == [
        (
            "upscale",
            "FAIL: upscale.model /mnt/x4 not found; pictures are enlarged with Lanczos instead",
        )
    ]
    lose = Variation((1, 1), "1-1", 1, 7, "lose", "", variation(1).params)
    for v in (variation(1), lose, variation(2)):
        w.request(v)
        collect(w, lambda out, v=v: any(o.variation == v for o in out))
    assert [kind for kind, _ in reports] == ["upscale", "upscale"]  # the second: once
    assert reports[1][1].startswith("FAIL: test, not upscaled (see the log)")


def test_a_bad_retry_period_is_named() -> None:
    with pytest.raises(ValueError, match="retry_s must be above 0 seconds, got 0"):
        WorkerClient(EngineSpec(), retry_s=0)


def test_the_retry_policy_on_its_own_clock(tmp_path: Path) -> None:
    """EngineRetry alone: said once per reason, waits while the model is missing, and a
    reload asked during a try is answered by that try (no second one at once)."""
    from installation.worker.retry import EngineRetry

    said: list[str] = []
    model = tmp_path / "m"
    retry = EngineRetry(EngineSpec(model=model), 60.0, lambda kind, msg: said.append(msg))
    retry.hello("fallback", "no model", now=0.0)
    retry.hello("fallback", "no model", now=1.0)  # a crash restart: the same reason again
    assert retry.degraded and len(said) == 1
    assert not retry.due(60.9)
    assert not retry.due(61.0)  # due, but the path is missing: wait another period
    model.mkdir()
    assert not retry.due(120.9) and retry.due(121.0)
    retry.started()
    assert retry.ask()  # a reload while the try runs
    retry.hello("fallback", "a broken model", now=130.0)
    assert not retry.due(130.0) and len(said) == 2  # a new reason is said once more
    retry.hello("diffusers", "", now=200.0)
    assert not retry.degraded and not retry.ask()
    assert retry.health(200.0) == {"degraded": False, "engine_retries": 1}
