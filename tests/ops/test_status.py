"""StatusBoard: snapshot, percentiles, thread safety, atomic file, human format."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from installation.ops.status import (
    StatusBoard,
    format_status,
    percentile,
    read_status,
    write_json_atomic,
)


class Clock:
    def __init__(self, t: float = 0.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock() -> Clock:
    return Clock(100.0)


@pytest.fixture
def board(clock: Clock) -> StatusBoard:
    return StatusBoard(show="demo", clock=clock, wall=lambda: 1_700_000_000.0 + clock.t)


def test_percentiles_nearest_rank() -> None:
    assert percentile([], 50) is None
    assert percentile([7.0], 95) == 7.0
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 95) == 95.0
    assert percentile([5.0, 1.0, 3.0], 50) == 3.0


def test_latency_keeps_only_the_last_100_throws(board: StatusBoard) -> None:
    for ms in range(1, 201):  # 1..200; the window keeps 101..200
        board.record_latency(float(ms))
    board.record_latency(float("nan"))  # ignored, never poisons the percentiles
    board.record_latency(-3)
    lat = board.snapshot()["latency_ms"]
    histogram = lat.pop("histogram")
    assert lat == {"count": 100, "last": 200.0, "p50": 150.0, "p95": 195.0}
    # the histogram (for /metrics) counts every throw since the start, per bucket
    assert histogram["counts"][:3] == [50, 50, 100] and sum(histogram["counts"]) == 200
    assert histogram["sum"] == sum(range(1, 201))


def test_snapshot_is_json_ready_and_complete(board: StatusBoard, clock: Clock) -> None:
    board.set_state("presenting")
    board.set_engine("fallback")
    board.record_throw((3, 5), "dice")
    board.record_variation(number=17, seed=1234, key="3-5", cached=True)
    link = {"port": "/dev/ttyACM0", "connected": True, "since": Path("/x")}
    board.set_section("dice", link)
    link["connected"] = False  # a later change by the edge does not leak in
    board.count("dice_disconnect")
    board.count("dice_disconnect")
    board.error("worker_crash", "exit code -9")
    clock.t += 12.5
    snap = board.snapshot()
    assert json.loads(json.dumps(snap)) == snap
    assert snap["state"] == "presenting" and snap["engine"] == "fallback"
    assert snap["uptime_s"] == 12.5
    assert snap["last_throw"]["faces"] == [3, 5]
    assert snap["last_variation"]["number"] == 17
    assert snap["sections"]["dice"] == {"port": "/dev/ttyACM0", "connected": True, "since": "/x"}
    assert snap["faults"] == {"dice_disconnect": 2, "worker_crash": 1}
    assert [e["kind"] for e in snap["errors"]] == ["worker_crash"]


def test_only_the_last_20_errors_are_kept(board: StatusBoard) -> None:
    for i in range(25):
        board.error("bad_datagram", f"number {i}")
    snap = board.snapshot()
    assert len(snap["errors"]) == 20
    assert snap["errors"][0]["message"] == "number 5"
    assert snap["faults"]["bad_datagram"] == 25


def test_fps_measured_over_one_second_windows(board: StatusBoard) -> None:
    for i in range(1, 122):  # 60 frames a second for ~2 s on the fake clock
        board.frame(100.0 + i / 60)
    snap = board.snapshot()
    assert snap["frames"] == 121
    assert snap["fps"] == 60.0


def test_counters_are_thread_safe(board: StatusBoard) -> None:
    def hammer() -> None:
        for _ in range(2000):
            board.count("x")
            board.frame()

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert board.snapshot()["faults"]["x"] == 8000
    assert board.frames == 8000


def test_write_is_atomic_and_leaves_no_temp_files(board: StatusBoard, tmp_path: Path) -> None:
    path = tmp_path / "var" / "status.json"
    stop = threading.Event()
    seen: list[str] = []
    broken: list[str] = []

    def reader() -> None:
        while not stop.is_set():
            try:
                text = path.read_text()
            except FileNotFoundError:
                continue
            seen.append(text)
            try:
                json.loads(text)
            except ValueError as e:  # a partial file
                broken.append(str(e))

    t = threading.Thread(target=reader)
    t.start()
    try:
        for i in range(50):
            board.set_section("worker", {"n": i, "padding": "x" * 5000})
            board.write(path)
    finally:
        stop.set()
        t.join()
    assert read_status(path)["sections"]["worker"]["n"] == 49
    assert [p.name for p in path.parent.iterdir()] == ["status.json"]
    assert seen  # the reader did read while we wrote
    assert broken == []


def test_maybe_write_at_most_once_a_second(board: StatusBoard, tmp_path: Path) -> None:
    path = tmp_path / "status.json"
    assert board.maybe_write(path, now=10.0, wait=True)
    assert not board.maybe_write(path, now=10.5, wait=True)
    assert board.maybe_write(path, now=11.0, wait=True)
    assert read_status(path)["show"] == "demo"


def test_background_write_lands_and_close_flushes(board: StatusBoard, tmp_path: Path) -> None:
    path = tmp_path / "status.json"
    board.set_state("attract")
    assert board.maybe_write(path, now=1.0)
    board.close()
    assert read_status(path)["state"] == "attract"


def test_write_failure_is_counted_not_raised(board: StatusBoard, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert board.maybe_write(blocker / "status.json", now=1.0, wait=True)
    assert board.snapshot()["faults"] == {"status_write": 1}
    with pytest.raises(OSError):
        board.write(blocker / "status.json")


def test_read_status_names_the_file_on_garbage(tmp_path: Path) -> None:
    bad = tmp_path / "status.json"
    bad.write_text("{half")
    with pytest.raises(ValueError, match=r"status.json: not a status file \(it is not valid JSON"):
        read_status(bad)
    write_json_atomic(bad, [1, 2])
    with pytest.raises(ValueError, match="expected a JSON object"):
        read_status(bad)


def test_format_status_for_people(board: StatusBoard, clock: Clock) -> None:
    board.set_state("presenting")
    board.record_latency(120)
    board.record_throw((3, 5), "dice")
    board.set_section("dice", {"connected": True})
    board.error("worker_crash", "exit code -9")
    clock.t += 3725
    snap = board.snapshot()
    text = format_status(snap, now_wall=snap["written_at"] + 2)
    assert "written 2 s ago: the kiosk is running" in text
    assert "state     presenting" in text
    assert "uptime    1h 2m 5s" in text
    assert "p50 120 ms" in text
    assert "throw     3-5 from dice" in text
    assert "dice      connected" in text
    assert "worker_crash: exit code -9" in text
    stale = format_status(snap, now_wall=snap["written_at"] + 600)
    assert stale.startswith("WARNING: written 10m 0s ago") and "NOT running" in stale


def test_a_flood_of_one_fault_never_hides_the_last_of_another_kind() -> None:
    board = StatusBoard(show="t")
    board.error("dice", "dice disconnected: /dev/ttyACM0 unplugged")
    for n in range(500):
        board.error("render-error", f"variation {n}: out of memory")
    snap = board.snapshot()
    assert {e["kind"] for e in snap["errors"]} == {"render-error"}
    assert snap["last_error_by_kind"]["dice"]["message"].startswith("dice disconnected")
    assert snap["faults"] == {"dice": 1, "render-error": 500}
    text = format_status(snap)
    assert "earlier, the last of each other kind:" in text and "unplugged" in text
    for n in range(100):  # kinds are bounded too
        board.error(f"kind-{n}", "x")
    assert len(board.snapshot()["last_error_by_kind"]) == 64


def test_a_failing_status_write_is_logged_once_by_kind_not_by_temp_name(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "storage"
    blocked.write_text("a file where the storage folder should be")  # fails for root too
    board = StatusBoard(show="t")
    with caplog.at_level("INFO", logger="installation.ops.status"):
        for i in range(50):
            board.maybe_write(blocked / "status.json", 2.0 * i, wait=True)
        warnings = [r for r in caplog.records if "not written" in r.getMessage()]
        assert len(warnings) == 1
        assert ".tmp" not in warnings[0].getMessage()
        assert board.snapshot()["faults"]["status_write"] == 50
        blocked.unlink()
        blocked.mkdir()
        board.maybe_write(blocked / "status.json", 200.0, wait=True)
    assert any("written again" in r.getMessage() for r in caplog.records)
    assert (blocked / "status.json").exists()
