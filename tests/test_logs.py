from __future__ import annotations

import logging

from installation.ops.logs import JournalFormatter, RateLimit


def record(msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("installation.app", logging.WARNING, __file__, 1, msg, args, None)


def test_repeats_of_the_same_text_are_held_but_other_texts_pass() -> None:
    limit = RateLimit(interval=60.0)
    assert limit.filter(record("%s: %s", "render-crash", "worker died"))
    assert limit.filter(record("%s: %s", "throw-ignored", "die 2 shows 9"))  # same template
    assert not limit.filter(record("%s: %s", "render-crash", "worker died"))
    assert limit.filter(record("variation %d shown", 1))
    assert limit.filter(record("variation %d shown", 2))


def test_held_repeats_are_counted_when_the_message_passes_again() -> None:
    now = [1000.0]
    limit = RateLimit(interval=60.0, clock=lambda: now[0])
    assert limit.filter(record("%s", "x"))
    assert not limit.filter(record("%s", "x"))  # held, within the minute
    assert not limit.filter(record("%s", "x"))
    now[0] += 60.0
    r = record("%s", "x")
    assert limit.filter(r)
    assert r.getMessage() == "x (and 2 more like it)"


def test_journal_prefix_carries_the_priority() -> None:
    r = record("disk full")
    r.levelno = logging.ERROR
    assert JournalFormatter("%(message)s").format(r) == "<3>installation.app: disk full"
