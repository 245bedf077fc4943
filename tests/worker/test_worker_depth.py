"""Two jobs in the child: background work never leaves it idle, a live throw still waits
behind at most the one render in progress, and a crash or hang blames the job that was
rendering and asks again for the one the child never started. Real child processes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from test_worker import BEHAVING, collect, results_for, variation, wait_ready

from installation.worker.client import DEPTH, WorkerClient
from installation.worker.replies import Failure, Result


@pytest.fixture(scope="module")
def worker() -> Iterator[WorkerClient]:
    w = WorkerClient(BEHAVING, hang_timeout_s=1.5, backoff=(0.05, 0.2))
    w.start()
    yield w
    w.stop()


def test_background_jobs_are_handed_over_two_at_a_time(worker: WorkerClient) -> None:
    wait_ready(worker)
    jobs = [variation("slow", 100 + i, key=f"{i + 1}-1") for i in range(4)]
    for v in jobs:
        worker.request(v, live=False)
    # the child holds two (one rendering, the next ready), the parent keeps the rest
    assert worker.health()["in_child"] == DEPTH == 2
    assert worker.health()["queued"] == 2
    out = collect(worker, lambda out: len(out) == 4)
    assert [o.variation for o in out] == jobs
    assert all(isinstance(o, Result) and not o.fallback for o in out)


def test_a_live_throw_waits_behind_at_most_the_render_in_progress(worker: WorkerClient) -> None:
    wait_ready(worker)
    rendering, queued = variation("slow", 111, key="1-1"), variation("slow", 112, key="2-1")
    live = variation(seed=113, key="3-3")
    worker.request(rendering, live=False)
    worker.request(queued, live=False)
    # once the child says it is rendering the first, the throw comes (it is slow: SLOW_S)
    out = collect(worker, lambda _: worker.health()["started"])
    assert worker.health()["in_flight"] == rendering.key
    worker.request(live)  # both background jobs are in the child already
    assert worker.health()["in_child"] == 3
    out += collect(worker, lambda more: len(out + more) == 3)
    assert [o.variation for o in out] == [rendering, live, queued]


def test_no_background_job_is_handed_over_while_a_live_one_is_in_the_child(
    worker: WorkerClient,
) -> None:
    wait_ready(worker)
    live, bg = variation("slow", 121, key="1-1"), variation(seed=122, key="2-1")
    worker.request(live)
    worker.request(bg, live=False)
    assert (worker.health()["in_child"], worker.health()["queued"]) == (1, 1)
    out = collect(worker, lambda out: len(out) == 2)
    assert [o.variation for o in out] == [live, bg]


@pytest.mark.parametrize(("prompt", "kind"), [("crash", "crash"), ("hang", "hang")])
def test_a_lost_child_blames_the_render_in_progress_and_the_next_job_is_asked_again(
    worker: WorkerClient, prompt: str, kind: str
) -> None:
    wait_ready(worker)
    restarts = worker.health()["restarts"]
    bad, next_job = variation(prompt, 131, key="1-1"), variation(seed=132, key="2-1")
    worker.request(bad, live=False)
    worker.request(next_job, live=False)
    assert worker.health()["in_child"] == 2
    out = collect(worker, results_for(next_job), timeout=20)
    failure, res = out
    assert isinstance(failure, Failure) and (failure.variation, failure.kind) == (bad, kind)
    assert isinstance(res, Result) and res.variation == next_job and not res.fallback
    assert worker.health()["restarts"] == restarts + 1
