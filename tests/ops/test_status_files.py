"""`installation status` against damaged and exotic status files, and without a SHOW:
the real CLI in a child process with a deadline, so a hang fails instead of stalling."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from installation.ops import service
from installation.ops.installed import show_in_unit
from installation.ops.status import StatusBoard, format_status
from tests.ops.conftest import run_cli

REPO = Path(__file__).resolve().parents[2]
DEADLINE_S = 30.0


def installation(
    *args: str, env: dict[str, str] | None = None, prefix: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k != "INSTALLATION_SHOW"}
    started = time.monotonic()
    proc = subprocess.run(
        [*prefix, sys.executable, "-m", "installation", *args],
        capture_output=True,
        text=True,
        timeout=DEADLINE_S,
        env={**base, "PYTHONPATH": str(REPO), **(env or {})},
    )
    assert time.monotonic() - started < DEADLINE_S
    return proc


def good_status(path: Path, age_s: float = 0.0) -> Path:
    board = StatusBoard(show="demo", wall=lambda: time.time() - age_s)
    board.set_state("presenting")
    board.write(path)
    return path


@contextlib.contextmanager
def kept_fresh(path: Path) -> Iterator[Path]:
    """A status file rewritten every half second, as a running kiosk does: a command that a
    loaded machine takes over 10 s to start still finds it fresh."""
    stop = threading.Event()

    def keep() -> None:
        while not stop.wait(0.5):
            good_status(path)

    good_status(path)
    thread = threading.Thread(target=keep, daemon=True)
    thread.start()
    try:
        yield path
    finally:
        stop.set()
        thread.join(10)


def _sparse(path: Path) -> None:
    with open(path, "wb") as f:
        f.truncate(50 * 1024 * 1024)


def _deep(path: Path) -> None:
    path.write_bytes(b'{"written_at": 1, "x": ' + b"[" * 10_000 + b"]" * 10_000 + b"}")


def _real_big(path: Path) -> None:
    path.write_bytes(b'{"written_at": 1, "x": "' + b"x" * (2 * 1024 * 1024) + b'"}')


# name -> (make the file at path, words the one line must hold)
BAD: dict[str, tuple[Callable[[Path], object], str]] = {
    "empty": (lambda p: p.write_bytes(b""), "is empty"),
    "white space": (lambda p: p.write_bytes(b"\n \n"), "only white space"),
    "truncated": (lambda p: p.write_bytes(good_status(p).read_bytes()[:200]), "cut short"),
    "not json": (lambda p: p.write_text("state = running"), "not valid JSON"),
    "binary": (lambda p: p.write_bytes(bytes(range(256)) * 4), "not UTF-8"),
    "control bytes": (lambda p: p.write_bytes(b"\x00\x01"), "not valid JSON"),
    "a list": (lambda p: p.write_text("[1, 2]"), "expected a JSON object with 'written_at'"),
    "a string": (lambda p: p.write_text('"running"'), "expected a JSON object"),
    "a number": (lambda p: p.write_text("-5"), "expected a JSON object"),
    "no written_at": (lambda p: p.write_text('{"state": "presenting"}'), "'written_at'"),
    "a huge number": (lambda p: p.write_text('{"written_at": ' + "9" * 5000 + "}"), "digits"),
    "nested 10,000 deep": (_deep, "more than 32 deep"),
    "50 MB (sparse)": (_sparse, "50 MiB, over the limit of 1 MiB"),
    "2 MB of text": (_real_big, "over the limit of 1 MiB"),
    "a folder": (lambda p: p.mkdir(), "is a folder, not a regular file"),
    "a FIFO": (os.mkfifo, "is a named pipe (FIFO)"),
    "/dev/zero by a link": (lambda p: p.symlink_to("/dev/zero"), "leads to /dev/zero"),
    "a link loop": (lambda p: p.symlink_to(p), "cannot be opened"),
    "a dangling link": (lambda p: p.symlink_to(p.parent / "gone.json"), "no status file at"),
}


# these could hang or eat memory if the reader regressed: a child process with a deadline
IN_A_CHILD = {"a FIFO", "/dev/zero by a link"}


@pytest.mark.parametrize("name", list(BAD))
def test_a_bad_status_file_gives_one_clear_line_and_exit_4(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "status.json"
    make, words = BAD[name]
    make(path)
    if name in IN_A_CHILD:
        proc = installation("status", "--file", str(path))
        code, out, err = proc.returncode, proc.stdout, proc.stderr
    else:
        capsys.readouterr()
        code = run_cli(["status", "--file", str(path)])
        out, err = capsys.readouterr()
    assert code == 4, err
    assert "Traceback" not in err + out and out == ""
    (line,) = err.splitlines()
    assert str(path) in line and words in line, line


def test_devices_given_straight_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    proc = installation("status", "--file", "/dev/zero")
    assert proc.returncode == 4 and "a character device" in proc.stderr, proc.stderr
    assert run_cli(["status", "--file", "/dev/null"]) == 4
    assert "/dev/null: not a status file (it is a character device" in capsys.readouterr().err


def test_an_unreadable_status_file(tmp_path: Path) -> None:
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        pytest.skip("needs root and setpriv to take away the right to read any file")
    path = good_status(tmp_path / "status.json")
    path.chmod(0)
    proc = installation(
        "status",
        "--file",
        str(path),
        prefix=(setpriv, "--bounding-set=-dac_override,-dac_read_search"),
    )
    assert proc.returncode == 4, proc.stderr
    assert "cannot be opened (Permission denied)" in proc.stderr


def test_a_show_toml_that_is_a_fifo_or_deep_falls_back_to_var(tmp_path: Path) -> None:
    """`status SHOW` reads [storage] dir from show.toml, bounded like the loader."""
    show = tmp_path / "show"
    (show / "var").mkdir(parents=True)
    os.mkfifo(show / "show.toml")
    with kept_fresh(show / "var" / "status.json"):
        proc = installation("status", str(show))
        assert proc.returncode == 0, proc.stderr
        (show / "show.toml").unlink()
        (show / "show.toml").write_text("x = " + "[" * 10_000)
        proc = installation("status", str(show))
    assert proc.returncode == 0, proc.stderr


# -- any value in any field: words, never a traceback --------------------------------------
ODD = [
    None,
    True,
    -1,
    1e308,
    "x" * 10_000,
    "\x1b[2J\x1b[31mred",
    [],
    [1, [2]],
    {},
    {"a": {"b": []}},
]
FIELDS = [
    "show",
    "pid",
    "state",
    "engine",
    "written_at",
    "started_at",
    "uptime_s",
    "frames",
    "fps",
    "latency_ms",
    "last_throw",
    "last_variation",
    "sections",
    "faults",
    "errors",
    "last_error_by_kind",
]


def check_words(out: str) -> None:
    assert out.count("\n") < 200
    assert "\x1b" not in out  # a status file cannot drive the terminal
    assert all(len(line) <= 400 for line in out.splitlines())


def odd(field: str, value: object) -> object:
    if field == "sections":
        return {n: value for n in ("worker", "dice", "cues", "projectors", "new")}
    if field in ("errors", "last_error_by_kind"):
        return [value, {"at": value, "kind": value, "message": value}]
    return value


@pytest.mark.parametrize("field", FIELDS)
def test_odd_values_in_a_field_are_printed_not_raised(field: str, tmp_path: Path) -> None:
    data = json.loads(good_status(tmp_path / "status.json").read_text())
    for value in ODD:
        check_words(format_status({**data, field: odd(field, value)}, now_wall=time.time()))


def test_the_cli_with_every_field_odd_at_once(tmp_path: Path) -> None:
    path = tmp_path / "status.json"
    data = {field: odd(field, "\x1b[2J" if field != "written_at" else 1.0) for field in FIELDS}
    path.write_text(json.dumps(data))
    proc = installation("status", "--file", str(path))
    assert proc.returncode == 3 and proc.stderr == "", proc.stderr
    check_words(proc.stdout)


def test_a_status_from_the_future_says_so(tmp_path: Path) -> None:
    path = good_status(tmp_path / "status.json", age_s=-3600)
    proc = installation("status", "--file", str(path))
    assert proc.returncode == 3 and "written in the future" in proc.stdout


# -- status without SHOW: the show the service runs ------------------------------------------
def write_unit(root: Path, show: Path, *extra: str) -> None:
    assert run_cli(["service", "install", str(show), "--root", str(root), *extra]) == 0


def test_status_without_show_finds_the_show_the_service_runs(tmp_path: Path) -> None:
    root, show = tmp_path / "root", tmp_path / "my show 100%"
    (show / "var").mkdir(parents=True)
    (show / "show.toml").write_text('[show]\nname = "x"\n')
    write_unit(root, show)
    with kept_fresh(show / "var" / "status.json"):
        proc = installation("status", "--root", str(root))
    assert proc.returncode == 0, proc.stderr
    assert "the kiosk is running" in proc.stdout
    unit = root / "etc/systemd/system/installation.service"
    assert proc.stderr.strip() == f"(the show in {unit}: {show})"
    proc = installation("status", "--root", str(root), "--json")
    assert json.loads(proc.stdout)["state"] == "presenting"  # the note stays on stderr


def test_a_desktop_unit_in_the_users_home_is_found_too(tmp_path: Path) -> None:
    root, show = tmp_path / "root", tmp_path / "show"
    (show / "var").mkdir(parents=True)
    good_status(show / "var" / "status.json", age_s=60)
    home = {"HOME": "/home/ada"}
    write_unit(root, show, "--mode", "desktop", "--user", "ada")  # ada's home: /home/ada
    proc = installation("status", "--root", str(root), env=home)
    assert proc.returncode == 3, proc.stderr  # found; its status is a minute old
    assert "home/ada/.config/systemd/user/installation.service" in proc.stderr
    other = tmp_path / "other"
    write_unit(root, other)  # and a system unit for another show: which one?
    proc = installation("status", "--root", str(root), env=home)
    assert proc.returncode == 2
    (line,) = proc.stderr.splitlines()
    assert "several shows are installed" in line and str(show) in line and str(other) in line


def test_without_show_or_unit_one_line_says_how_to_name_it(tmp_path: Path) -> None:
    proc = installation("status", "--root", str(tmp_path))
    assert proc.returncode == 2
    (line,) = proc.stderr.splitlines()
    assert "no show installed as a service" in line and "installation status SHOW" in line
    assert "INSTALLATION_SHOW" in line


def test_the_variable_names_the_show(tmp_path: Path) -> None:
    show = tmp_path / "show"
    (show / "var").mkdir(parents=True)
    with kept_fresh(show / "var" / "status.json"):
        env = {"INSTALLATION_SHOW": str(show)}
        proc = installation("status", "--root", str(tmp_path), env=env)
    assert proc.returncode == 0 and "$INSTALLATION_SHOW" in proc.stderr, proc.stderr


@pytest.mark.parametrize("folder", ["/srv/shows/demo", "/srv/my show/100%", "/srv/a$b"])
def test_every_rendered_unit_names_its_show(folder: str) -> None:
    for mode in service.MODES:
        units = service.render_units(
            Path(folder), user="ada", venv=Path("/opt/v"), mode=mode, home=Path("/home/ada")
        )
        unit = next(text for dest, text in units.items() if dest.endswith(service.UNIT))
        assert show_in_unit(unit) == Path(folder)
