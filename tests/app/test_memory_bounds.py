"""Valid shows with huge outcome spaces run in a fixed memory budget: real processes in a
real cgroup memory limit (600 MB; a 6 x d20 show used to pass 5 GB before its first
frame), fallback engine, SDL's dummy driver. Skipped without root or cgroup v1 memory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.memcap import Measured, available, run_capped
from bench.memory import command, env, frames, write_show

CAP = 600 * 2**20
DEADLINE_S = 180  # only a hang comes near this: the run stops itself after 8 s


@pytest.fixture(autouse=True)
def memory_cgroup() -> None:
    if reason := available():
        pytest.skip(reason)


def capped(argv: list[str], log: Path) -> Measured:
    done = run_capped(argv, CAP, DEADLINE_S, env=env(), log=log)
    assert not done.oom_killed, f"killed at the {CAP >> 20} MB cap:\n{log.read_text()[-3000:]}"
    assert done.returncode == 0, f"exit {done.returncode}:\n{log.read_text()[-3000:]}"
    return done


@pytest.mark.parametrize(
    ("dice", "faces", "seed_mode"),
    [(6, 20, "fixed"), (8, 20, "fixed"), (8, 100, "fixed"), (8, 100, "fresh")],
)
def test_a_huge_show_reaches_its_first_frame_under_the_cap(
    tmp_path: Path, dice: int, faces: int, seed_mode: str
) -> None:
    show = write_show(tmp_path / "show", dice, faces, seed_mode=seed_mode)
    argv = command(
        "run",
        str(show),
        "--headless",
        "--exit-after",
        "8",
        "--auto-throw",
        "1",
        "--screenshot-dir",
        str(tmp_path / "shots"),
    )
    capped(argv, tmp_path / "run.log")
    assert frames(show) > 0, (tmp_path / "run.log").read_text()[-3000:]
    status = json.loads((show / "var" / "status.json").read_text("utf-8"))
    assert status["state"] == "stopped"


def test_prerender_limit_1_on_a_6_d20_show_renders_one_under_the_cap(tmp_path: Path) -> None:
    show = write_show(tmp_path / "show", 6, 20)
    log = tmp_path / "prerender.log"
    capped(command("prerender", str(show), "--limit", "1"), log)
    text = log.read_text()
    assert "of 64000000 outcomes fit the cache, 0 already cached, 1 to render" in text, text
    assert "rendered 1, failed 0" in text
    assert len(list((show / "var" / "cache").glob("*.png"))) == 1


def test_a_sheet_of_a_6_d20_show_is_a_sample_drawn_under_the_cap(tmp_path: Path) -> None:
    from installation.storage.png import read_png_text

    show = write_show(tmp_path / "show", 6, 20)
    out = tmp_path / "sheet.png"
    capped(command("sheet", str(show), "-o", str(out), "--tile", "64"), tmp_path / "sheet.log")
    layout = json.loads(read_png_text(out)["sheet"])
    assert (layout["total"], layout["shown"]) == (64_000_000, 216)
    assert "sample of 216 of 64000000 outcomes" in read_png_text(out)["header"]
