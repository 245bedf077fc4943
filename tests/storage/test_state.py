from __future__ import annotations

from pathlib import Path

from installation.storage.state import StateStore


def test_count_persists_across_instances(tmp_path: Path) -> None:
    s = StateStore(tmp_path / "state" / "state.json")
    assert s.counts() == (0, {})
    s.save_counts(7, {"1-2": 3})
    assert StateStore(tmp_path / "state" / "state.json").counts() == (7, {"1-2": 3})
    assert not [p for p in (tmp_path / "state").iterdir() if p.name.endswith(".tmp")]


def test_corrupt_state_without_a_copy_starts_from_zero_and_says_so(tmp_path: Path) -> None:
    p = tmp_path / "state.json"
    p.write_text("{half written")
    found = StateStore(p).load_counts()
    assert (found.count, found.repeats) == (0, {})
    assert found.problem is not None and "no copy" in found.problem
    assert "starts again from 0" in found.problem
    p.write_text('{"throw_count": 3, "outcome_repeats": {"1-1": "x", "2-2": 4}}')
    found = StateStore(p).load_counts()
    assert (found.count, found.repeats) == (0, {})
    assert found.problem is not None and 'outcome_repeats[1-1] "x" (a string)' in found.problem


def test_every_save_keeps_the_file_it_replaces_as_the_copy(tmp_path: Path) -> None:
    import json
    import os

    store = StateStore(tmp_path / "state.json")
    for n in (1, 2, 3):
        store.save_counts(n, {"1-1": n})
    assert json.loads((tmp_path / "state.json").read_text())["throw_count"] == 3
    assert json.loads((tmp_path / "state.json.prev").read_text())["throw_count"] == 2
    one, two = os.stat(tmp_path / "state.json"), os.stat(tmp_path / "state.json.prev")
    assert one.st_ino != two.st_ino and one.st_nlink == two.st_nlink == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json", "state.json.prev"]


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


def test_a_settled_count_wakes_the_frame_loop(tmp_path: Path) -> None:
    import threading

    from installation.storage.state import CountWriter

    store = StateStore(tmp_path / "state.json")
    wake = threading.Event()  # the frame pacing's event
    writer = CountWriter(store, wake)
    writer.submit(4, {"2-2": 1})
    assert wake.wait(10), "a written count did not wake the frame loop"
    assert writer.settled == 4 and store.counts() == (4, {"2-2": 1})  # settled before the wake
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
