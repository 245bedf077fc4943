from __future__ import annotations

import logging

import pytest

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


def test_a_blocked_stderr_never_blocks_the_thread_that_logs() -> None:
    """stderr as a real pipe that nobody reads (a stalled journald): logging goes on at
    once, lines beyond the queue are dropped and counted, and the count is written once
    the pipe flows again."""
    import os
    import threading

    from installation.ops.logs import BackgroundHandler

    read_fd, write_fd = os.pipe()
    stream = os.fdopen(write_fd, "w", buffering=1)
    handler = BackgroundHandler(stream, maxsize=100)
    handler.setFormatter(JournalFormatter("%(message)s"))
    logger = logging.getLogger("test.blocked-stderr")
    logger.propagate = False
    logger.addHandler(handler)
    done = threading.Event()

    def flood() -> None:  # ~1.2 MB: far beyond the pipe's 64 KiB and the queue's 100 lines
        for i in range(2000):
            logger.warning("line %05d %s", i, "x" * 600)
        done.set()

    try:
        threading.Thread(target=flood, daemon=True).start()
        assert done.wait(10), "logging blocked on a stderr nobody reads"
        assert handler.dropped > 0
        got: list[bytes] = []
        reader = threading.Thread(
            target=lambda: got.extend(iter(lambda: os.read(read_fd, 65536), b""))
        )
        reader.start()
        assert handler.flush_within(10)
        logger.warning("after")
        assert handler.flush_within(10)
        stream.close()
        reader.join(10)
        text = b"".join(got).decode()
        assert "log line(s) dropped: stderr was blocked" in text
        assert text.rstrip().endswith("<4>test.blocked-stderr: after")
    finally:
        logger.removeHandler(handler)
        os.close(read_fd)


def test_a_closed_stderr_costs_a_counter_not_a_traceback_per_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import io

    from installation.ops.logs import BackgroundHandler

    stream = io.StringIO()
    handler = BackgroundHandler(stream)
    stream.close()
    for _ in range(3):
        handler.handle(record("line"))
    assert handler.flush_within(5.0)
    assert "Traceback" not in capsys.readouterr().err
