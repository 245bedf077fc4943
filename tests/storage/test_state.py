from __future__ import annotations

from pathlib import Path

from installation.storage.state import StateStore


def test_count_persists_across_instances(tmp_path: Path) -> None:
    s = StateStore(tmp_path / "state" / "state.json")
    assert s.counts() == (0, {})
    s.save_counts(7, {"1-2": 3})
    assert StateStore(tmp_path / "state" / "state.json").counts() == (7, {"1-2": 3})
    assert not [p for p in (tmp_path / "state").iterdir() if p.name.endswith(".tmp")]


def test_corrupt_state_is_empty_not_fatal(tmp_path: Path) -> None:
    p = tmp_path / "state.json"
    p.write_text("{half written")
    assert StateStore(p).counts() == (0, {})
    p.write_text('{"throw_count": -3, "outcome_repeats": {"1-1": "x", "2-2": 4}}')
    assert StateStore(p).counts() == (0, {"2-2": 4})


def wait_for(cond, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    import time

    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline
        time.sleep(0.005)


def test_progress_writer_settles_after_the_write(tmp_path: Path) -> None:
    from installation.storage.state import CountWriter

    store = StateStore(tmp_path / "state.json")
    writer = CountWriter(store)
    writer.submit(3, {"1-1": 3})
    wait_for(lambda: writer.settled == 3)
    assert store.counts() == (3, {"1-1": 3})
    writer.stop()


def test_progress_writer_reports_a_full_disk_goes_on_and_retries(
    tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    import errno

    from installation.storage.state import CountWriter

    store = StateStore(tmp_path / "state.json")
    real_save = store.save_counts
    calls = {"n": 0}

    def full_once(count: int, repeats: dict[str, int]) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_save(count, repeats)

    monkeypatch.setattr(store, "save_counts", full_once)
    monkeypatch.setattr(CountWriter, "RETRY_S", 0.05)
    writer = CountWriter(store)
    writer.submit(5, {"1-1": 5})
    wait_for(lambda: writer.settled == 5)  # the show goes on
    (error,) = writer.take_errors()
    assert "throw count 5" in error and "No space left" in error
    wait_for(lambda: StateStore(tmp_path / "state.json").counts() == (5, {"1-1": 5}))
    writer.stop()
