"""Per-source reply budgets on an injected clock: the bound holds, sources are separate,
and the table of sources stays bounded without giving away allowance."""

from __future__ import annotations

import random

import pytest

from installation.osc.budget import ReplyBudget


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_quiet_source_gets_its_burst_then_the_rate() -> None:
    clock = Clock()
    b = ReplyBudget(ratio=2, rate=1000, burst=4000, clock=clock)
    assert b.take("10.0.0.1", 3000)
    assert not b.take("10.0.0.1", 2000)  # 1000 left
    clock.now = 1.0
    assert b.take("10.0.0.1", 2000)  # 1000 + 1000 refilled
    assert not b.take("10.0.0.1", 1)


def test_requests_earn_twice_their_bytes() -> None:
    b = ReplyBudget(ratio=2, rate=0, burst=1, clock=Clock())
    b.received("10.0.0.1", 28)
    assert b.take("10.0.0.1", 57) and not b.take("10.0.0.1", 1)
    b.received("10.0.0.1", 100)
    assert not b.take("10.0.0.1", 202)
    assert b.take("10.0.0.1", 200)


def test_sources_are_separate_and_keyed_by_ip() -> None:
    b = ReplyBudget(ratio=2, rate=0, burst=100, clock=Clock())
    assert b.take("10.0.0.1", 100)
    assert not b.take("10.0.0.1", 1)
    assert b.take("10.0.0.2", 100)


def test_random_traffic_never_exceeds_the_bound() -> None:
    rng = random.Random(13)
    clock = Clock()
    b = ReplyBudget(ratio=2, rate=4096, burst=8192, clock=clock)
    received = sent = 0
    for _ in range(5000):
        clock.now += rng.choice([0.0, 0.0, 0.001, 0.01, 0.5])
        size = rng.choice([28, 36, 200])
        b.received("10.0.0.9", size)
        received += size
        for reply in (rng.choice([40, 124, 2164, 8000]) for _ in range(rng.randint(0, 3))):
            if b.take("10.0.0.9", reply):
                sent += reply
        assert sent <= b.bound(received, clock.now)
    assert sent > 2 * received  # the allowance was used, so the bound was the limit


def test_the_table_forgets_only_sources_whose_allowance_is_full_again() -> None:
    clock = Clock()
    b = ReplyBudget(ratio=2, rate=100, burst=1000, max_sources=2, clock=clock)
    assert b.take("a", 1000) and b.take("b", 1000)
    assert not b.take("c", 1)  # table full, both still owe: c gets nothing yet
    clock.now = 10.5  # a's allowance is full again: a may be forgotten
    assert b.take("c", 1000)
    assert b.take("a", 1000)  # a comes back with a full allowance: what it would have had
    assert not b.take("a", 1)


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="burst > 0"):
        ReplyBudget(burst=0)
