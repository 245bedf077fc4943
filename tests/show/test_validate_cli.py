"""`installation validate` (and `run`, `doctor`) as a technician runs them: a real process,
its exit status and its output, on exotic files that once hung or crashed it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import tomllib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from installation.show.schema import Show
from installation.show.summary import hours_line

REPO = Path(__file__).resolve().parents[2]
DEADLINE_S = 120  # a cold start imports pydantic and PIL; only a hang comes near this


def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run `python -m installation ARGS`; a process still running at the deadline is
    killed and fails the test (a FIFO that blocks the reader would otherwise hang it)."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "SDL_VIDEODRIVER": "dummy"}
    try:
        return subprocess.run(
            [sys.executable, "-m", "installation", *map(str, args)],
            capture_output=True,
            text=True,
            timeout=DEADLINE_S,
            env=env,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"installation {' '.join(map(str, args))} still running after {DEADLINE_S} s")


def test_validate_refuses_a_fifo_show_toml(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "show.toml")
    done = cli("validate", tmp_path)
    assert done.returncode == 2
    assert done.stdout == (
        f"{tmp_path / 'show.toml'}: is a named pipe (FIFO), not a regular file; expected a "
        "show folder containing show.toml, or a .toml show file\n"
    )
    assert "1 problem; the show was not loaded" in done.stderr


def test_run_and_doctor_refuse_a_fifo_show_toml_too(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "show.toml")
    run = cli("run", tmp_path, "--headless", "--exit-after", "1")
    assert run.returncode == 2, run.stdout + run.stderr
    assert "is a named pipe (FIFO), not a regular file" in run.stdout
    doctor = cli("doctor", tmp_path)
    assert "is a named pipe (FIFO), not a regular file" in doctor.stdout + doctor.stderr
    assert "Traceback" not in doctor.stdout + doctor.stderr


def test_validate_refuses_a_fifo_painting(write_show: Callable[[str], Path]) -> None:
    folder = write_show("[artwork]\npaintings = ['art/p.png', 'art/pipe.png']\n")
    os.mkfifo(folder / "art" / "pipe.png")
    done = cli("validate", folder)
    assert done.returncode == 2
    assert done.stdout.startswith(
        f"{folder / 'show.toml'}:2: artwork.paintings[1]: painting 'art/pipe.png' is a named "
        f"pipe (FIFO) ({folder / 'art' / 'pipe.png'}); expected an image file"
    )


def test_validate_dev_null_is_an_error() -> None:
    done = cli("validate", "/dev/null")
    assert done.returncode == 2
    assert done.stdout.startswith("/dev/null: is a character device, not a regular file")
    assert "show is valid" not in done.stderr


def test_validate_a_link_to_dev_zero_ends_at_once(tmp_path: Path) -> None:
    (tmp_path / "show.toml").symlink_to("/dev/zero")
    done = cli("validate", tmp_path / "show.toml")
    assert done.returncode == 2
    assert "(it leads to /dev/zero)" in done.stdout


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x = " + "[" * 5000 + "]" * 5000, ":1: lists or tables nested more than 16 deep"),
        ("[dice]\ncount = " + "9" * 5000, ":2: a number with more than 4300 digits"),
        (
            '[dice]\ncount = "3"',
            ":2: dice.count: got '3' (text); expected a whole number from 1 to 8 "
            "(write it without quotes: 3)",
        ),
        ('[display]\nlabel_template = "{seed:>999999999}"', "width 999999999 is too large"),
        ('[dice]\nports = ["loop://"]', ":2: dice.ports[0]: got 'loop://': serial URLs"),
        ('[storage]\ndir = "/etc"', ":2: storage.dir: '/etc' is inside the system folder /etc"),
    ],
)
def test_validate_reports_each_problem_as_one_line_and_exits_2(
    tmp_path: Path, text: str, expected: str
) -> None:
    (tmp_path / "show.toml").write_text(text + "\n")
    done = cli("validate", tmp_path)
    assert done.returncode == 2
    assert expected in done.stdout and len(done.stdout.splitlines()) == 1, done.stdout
    assert "Traceback" not in done.stderr


SCHEDULED = """\
[schedule]
timezone = "Europe/Berlin"
monday = "10:00-18:00"
wednesday = "10:00-13:00, 14:00-18:00"
warmup_minutes = 15
"""


def test_validate_prints_the_next_opening_and_closing(tmp_path: Path) -> None:
    (tmp_path / "show.toml").write_text(SCHEDULED)
    section = Show.model_validate(tomllib.loads(SCHEDULED)).schedule
    assert section is not None
    before = hours_line(section, datetime.now(UTC))
    done = cli("validate", tmp_path)
    after = hours_line(section, datetime.now(UTC))
    assert done.returncode == 0, done.stdout
    hours = [line for line in done.stdout.splitlines() if line.startswith("hours")]
    assert hours in ([f"hours     {before}"], [f"hours     {after}"]), hours
    assert "(Europe/Berlin)" in hours[0] and "opens" in hours[0] and "closes" in hours[0]
    assert "show is valid" in done.stderr


def test_validate_without_a_schedule_says_always_open(tmp_path: Path) -> None:
    (tmp_path / "show.toml").write_text(textwrap.dedent("[show]\nname = 'x'\n"))
    done = cli("validate", tmp_path)
    assert done.returncode == 0
    assert "hours     always open (no [schedule])" in done.stdout.splitlines()
