"""A damaged state.json, whatever its shape, is reported loudly and recovered from its
copy; the copy is kept at every step of a save; nothing damaged is ever overwritten."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from installation.storage.state import KEEP_DAMAGED, StateStore

REPO = Path(__file__).resolve().parents[2]
GOOD = b'{"outcome_repeats": {"1-1": 40, "2-3": 1}, "throw_count": 41}'


def two_saves(folder: Path) -> Path:
    """state.json at 42 with its copy at 41."""
    store = StateStore(folder / "state.json")
    store.save_counts(41, {"1-1": 40, "2-3": 1})
    store.save_counts(42, {"1-1": 41, "2-3": 1})
    return folder / "state.json"


def python(code: str, path: Path) -> list[str]:
    return [sys.executable, "-c", code, str(path)]


def deep(n: int) -> bytes:
    return b'{"throw_count": 1, "outcome_repeats": ' + b"[" * n + b"]" * n + b"}"


# the bytes written over state.json, and a word the problem line must contain
DAMAGE: dict[str, tuple[bytes, str]] = {
    "empty": (b"", "is empty"),
    "white space": (b" \n\t ", "only white space"),
    "truncated": (GOOD[:30], "cut short"),
    "garbage": (b"\x00\x01garbage\xff", "not UTF-8"),
    "not json": (b"throw_count = 5", "not valid JSON"),
    "a list": (b"[]", "a list of 0 items, not an object"),
    "a number": (b"-5", "holds -5, not an object"),
    "a string": (b'"5"', '"5" (a string)'),
    "null": (b"null", "holds null"),
    "count a string": (b'{"throw_count": "5", "outcome_repeats": {}}', '"5" (a string)'),
    "count a boolean": (b'{"throw_count": true, "outcome_repeats": {}}', "true (true/false)"),
    "count negative": (b'{"throw_count": -5, "outcome_repeats": {}}', "throw_count -5"),
    "count a float": (b'{"throw_count": 5.5, "outcome_repeats": {}}', "5.5 (a decimal"),
    "count infinite": (b'{"throw_count": 1e999, "outcome_repeats": {}}', "Infinity"),
    "count NaN": (b'{"throw_count": NaN, "outcome_repeats": {}}', "NaN is not a number"),
    "count huge": (b'{"throw_count": ' + b"9" * 5000 + b"}", "digits"),
    "count too big": (b'{"throw_count": 99999999999999999999, "outcome_repeats": {}}', "throw_co"),
    "no count": (b'{"outcome_repeats": {}}', "has no throw_count"),
    "no repeats": (b'{"throw_count": 5}', "has no outcome_repeats"),
    "repeats a list": (b'{"throw_count": 5, "outcome_repeats": [1]}', "a list of 1 items"),
    "repeat negative": (b'{"throw_count": 5, "outcome_repeats": {"1-1": -1}}', "[1-1] -1"),
    "repeat a string": (b'{"throw_count": 5, "outcome_repeats": {"1-1": "2"}}', '"2" (a string)'),
    "bad outcome": (b'{"throw_count": 5, "outcome_repeats": {"<x>": 1}}', '"<x>"'),
    "nested 10,000 deep": (deep(10_000), "more than 4 deep"),
    "many objects": (b'{"throw_count": 1, "x": [' + b"{}," * 500 + b"{}]}", "more than 8 lists"),
}


@pytest.mark.parametrize("name", list(DAMAGE))
def test_a_damaged_file_is_reported_set_aside_and_the_count_goes_on_from_the_copy(
    name: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = two_saves(tmp_path)
    bad, word = DAMAGE[name]
    path.write_bytes(bad)
    with caplog.at_level(logging.ERROR, "installation.storage.state"):
        found = StateStore(path).load_counts()
    assert (found.count, found.repeats) == (41, {"1-1": 40, "2-3": 1})
    assert found.problem is not None and word in found.problem, found.problem
    assert str(path) in found.problem and "goes on from its copy state.json.prev (41)" in (
        found.problem
    )
    (aside,) = tmp_path.glob("state.json.damaged-*")
    assert f"set it aside as {aside.name}" in found.problem
    assert aside.read_bytes() == bad  # kept as it was found
    assert json.loads(path.read_bytes())["throw_count"] == 41  # restored from the copy
    (record,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert record.getMessage() == found.problem and "\n" not in found.problem


def test_the_next_save_after_a_recovery_keeps_a_good_copy(tmp_path: Path) -> None:
    path = two_saves(tmp_path)
    path.write_bytes(b"[]")
    store = StateStore(path)
    assert store.load_counts().count == 41
    store.save_counts(42, {"1-1": 41, "2-3": 1})
    assert StateStore(path).load_counts().count == 42
    assert json.loads((tmp_path / "state.json.prev").read_bytes())["throw_count"] == 41


def test_a_folder_a_huge_file_and_a_sparse_50_mb_file(tmp_path: Path) -> None:
    path = two_saves(tmp_path)
    path.unlink()
    path.mkdir()
    (path / "inside").write_text("x")
    found = StateStore(path).load_counts()
    assert (
        found.count == 41 and found.problem and "is a folder, not a regular file" in found.problem
    )
    (aside,) = tmp_path.glob("state.json.damaged-*")
    assert (aside / "inside").read_text() == "x"
    with open(path, "wb") as f:  # a 50 MB file, refused by its size before it is read
        f.truncate(50 * 1024 * 1024)
    found = StateStore(path).load_counts()
    assert (
        found.count == 41 and found.problem and "50 MiB, over the limit of 16 MiB" in found.problem
    )
    path.write_bytes(b'{"throw_count": 1, "outcome_repeats": {' + b' "1-1": 1,' * 1_700_000)
    found = StateStore(path).load_counts()  # 17 MB really there
    assert found.count == 41 and found.problem and "over the limit" in found.problem


def test_both_damaged_starts_from_zero_says_so_and_keeps_both(tmp_path: Path) -> None:
    path = two_saves(tmp_path)
    path.write_bytes(b"-5")
    (tmp_path / "state.json.prev").write_bytes(b"")
    found = StateStore(path).load_counts()
    assert (found.count, found.repeats) == (0, {})
    assert found.problem is not None
    assert "holds -5" in found.problem and "its copy state.json.prev is empty" in found.problem
    assert "the fresh count starts again from 0" in found.problem
    kept = sorted(p.name for p in tmp_path.glob("*.damaged-*"))
    assert [k.split(".damaged-")[0] for k in kept] == ["state.json", "state.json.prev"]


def test_a_missing_file_with_a_copy_goes_on_from_the_copy_and_says_how_to_reset(
    tmp_path: Path,
) -> None:
    path = two_saves(tmp_path)
    path.unlink()
    found = StateStore(path).load_counts()
    assert found.count == 41 and found.problem is not None
    assert (
        "is missing" in found.problem and "delete state.json and state.json.prev" in found.problem
    )
    assert StateStore(path).load_counts().problem is None  # restored


def test_a_new_show_has_no_problem(tmp_path: Path) -> None:
    assert StateStore(tmp_path / "state.json").load_counts() == (
        StateStore(tmp_path / "state.json").load_counts()
    )
    found = StateStore(tmp_path / "state.json").load_counts()
    assert (found.count, found.repeats, found.problem) == (0, {}, None)
    assert list(tmp_path.iterdir()) == []


def test_reading_only_changes_no_file(tmp_path: Path) -> None:
    path = two_saves(tmp_path)
    path.write_bytes(b"[]")
    before = sorted((p.name, p.read_bytes()) for p in tmp_path.iterdir())
    assert StateStore(path).counts() == (41, {"1-1": 40, "2-3": 1})
    assert sorted((p.name, p.read_bytes()) for p in tmp_path.iterdir()) == before


def test_set_aside_files_are_bounded(tmp_path: Path) -> None:
    path = two_saves(tmp_path)
    for i in range(KEEP_DAMAGED + 4):
        path.write_bytes(b"damage %d" % i)
        assert StateStore(path).load_counts().count == 41
    kept = sorted(tmp_path.glob("state.json.damaged-*"))
    assert len(kept) == KEEP_DAMAGED
    contents = {p.read_bytes() for p in kept}  # the newest ones
    assert contents == {b"damage %d" % i for i in range(4, KEEP_DAMAGED + 4)}


def test_a_file_damaged_while_the_kiosk_runs_is_set_aside_not_overwritten(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = two_saves(tmp_path)
    store = StateStore(path)
    assert store.load_counts().count == 42
    path.write_bytes(b'{"throw_count": "oops"}')
    with caplog.at_level(logging.ERROR, "installation.storage.state"):
        store.save_counts(43, {"1-1": 42, "2-3": 1})
    (aside,) = tmp_path.glob("state.json.damaged-*")
    assert aside.read_bytes() == b'{"throw_count": "oops"}'
    assert json.loads(path.read_bytes())["throw_count"] == 43
    assert json.loads((tmp_path / "state.json.prev").read_bytes())["throw_count"] == 42
    (record,) = caplog.records
    assert str(path) in record.getMessage() and aside.name in record.getMessage()


def test_a_damaged_file_that_cannot_be_set_aside_is_never_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = two_saves(tmp_path)
    path.write_bytes(b"[1, 2")
    real_rename = os.rename

    def busy(src: object, dst: object) -> None:
        if Path(str(src)) == path:
            raise OSError(16, "Device or resource busy")
        real_rename(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "rename", busy)
    store = StateStore(path)
    found = store.load_counts()
    assert found.count == 41 and found.problem is not None
    assert "could not set it aside (Device or resource busy)" in found.problem
    assert "sets the damaged file aside when it starts" not in found.problem
    assert path.read_bytes() == b"[1, 2"  # not restored over the damage either
    with pytest.raises(OSError, match="damaged and cannot be set aside"):
        store.save_counts(42, {"1-1": 41, "2-3": 1})
    assert path.read_bytes() == b"[1, 2"
    monkeypatch.setattr(os, "rename", real_rename)  # the disk lets go: the next save works
    store.save_counts(42, {"1-1": 41, "2-3": 1})
    assert StateStore(path).load_counts().count == 42
    (aside,) = tmp_path.glob("state.json.damaged-*")
    assert aside.read_bytes() == b"[1, 2"


def test_without_hard_links_the_copy_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(src: object, dst: object) -> None:
        raise OSError(1, "Operation not permitted")  # FAT, exFAT

    monkeypatch.setattr(os, "link", no_links)
    two_saves(tmp_path)
    assert json.loads((tmp_path / "state.json.prev").read_bytes())["throw_count"] == 41
    assert json.loads((tmp_path / "state.json").read_bytes())["throw_count"] == 42


# -- a power cut at every step of a save -------------------------------------------------
STEPS = ("link", "replace", "rename", "unlink", "fsync")


def test_at_every_step_of_a_save_one_of_the_two_files_parses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before every call that changes the folder (and every fsync: the order the disk
    sees), a reader finds the old or the new count, never a damaged pair."""
    path = tmp_path / "state.json"
    store = StateStore(path)
    seen: list[tuple[str, int]] = []
    expected = {0}

    def checked(name: str, real: Callable[..., object]) -> Callable[..., object]:
        def step(*args: object, **kwargs: object) -> object:
            found = StateStore(path).load_counts(repair=False)
            assert found.count in expected, (name, found)
            assert found.problem is None or "missing" not in found.problem, found.problem
            seen.append((name, found.count))
            return real(*args, **kwargs)

        return step

    for name in STEPS:
        monkeypatch.setattr(os, name, checked(name, getattr(os, name)))
    for n in range(1, 6):
        expected = {n - 1, n}
        store.save_counts(n, {"1-1": n})
        expected = {n}
        assert StateStore(path).load_counts(repair=False).count == n
    assert {name for name, _ in seen} >= {"link", "replace", "fsync"}


KILLED_SAVER = """
import sys, time
from pathlib import Path
from installation.storage.state import StateStore
store = StateStore(Path(sys.argv[1]))
n = store.load_counts().count
while True:
    n += 1
    store.save_counts(n, {"1-1": n})
    print(n, flush=True)
"""


def test_kill_9_during_saves_never_loses_both_files(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    last = 0
    for round_ in range(8):
        proc = subprocess.Popen(
            python(KILLED_SAVER, path),
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert proc.stdout is not None
        wanted = 1 + round_ * 7 % 23  # kill after a different number of saves each round
        for _ in range(wanted):
            line = proc.stdout.readline()
            assert line, "the saver died on its own"
            last = int(line)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        proc.stdout.close()
        found = StateStore(path).load_counts(repair=False)
        assert found.problem is None, found.problem
        assert found.count >= last  # a save reported done is on disk


# -- the exotic files, each in a child with a deadline: a regression fails, never hangs --
READER = """
import json, sys
from pathlib import Path
from installation.storage.state import StateStore
found = StateStore(Path(sys.argv[1])).load_counts()
print(json.dumps([found.count, found.problem]))
"""


def read_in_child(path: Path, timeout: float = 30) -> tuple[int, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    started = time.monotonic()
    proc = subprocess.run(
        python(READER, path),
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert time.monotonic() - started < timeout
    count, problem = json.loads(proc.stdout)
    return count, problem


def test_a_fifo_is_reported_never_waited_on(tmp_path: Path) -> None:
    path = two_saves(tmp_path)
    path.unlink()
    os.mkfifo(path)
    count, problem = read_in_child(path)
    assert count == 41 and "is a named pipe (FIFO), not a regular file" in problem
    (aside,) = tmp_path.glob("state.json.damaged-*")
    assert aside.is_fifo()


def test_dev_zero_through_a_symlink_is_reported_never_read(tmp_path: Path) -> None:
    path = two_saves(tmp_path)
    path.unlink()
    path.symlink_to("/dev/zero")
    count, problem = read_in_child(path)
    assert count == 41 and "a character device" in problem and "/dev/zero" in problem
    (aside,) = tmp_path.glob("state.json.damaged-*")
    assert aside.is_symlink() and os.readlink(aside) == "/dev/zero"
    assert Path("/dev/zero").is_char_device()  # the link was moved, not its target


def test_an_unreadable_file_is_reported(tmp_path: Path) -> None:
    """Root reads anything; without CAP_DAC_OVERRIDE (setpriv) a mode-000 file is unreadable."""
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        pytest.skip("needs root and setpriv to take away the right to read any file")
    path = two_saves(tmp_path)
    path.chmod(0)
    proc = subprocess.run(
        [setpriv, "--bounding-set=-dac_override,-dac_read_search", *python(READER, path)],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.returncode == 0, proc.stderr
    count, problem = json.loads(proc.stdout)
    assert count == 41 and "cannot be opened (Permission denied)" in problem
    (aside,) = tmp_path.glob("state.json.damaged-*")
    assert aside.stat().st_mode & 0o777 == 0
