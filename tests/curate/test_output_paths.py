"""`-o` and `--to` of every curator and model command, as real processes: a device, a
FIFO, a folder or a symlink is refused with one line and exit 2, left as it was; a
missing folder is made only with --parents."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from installation.show.schema import Show
from tests.curate.test_archive_cmd import DAY1, archived


def installation(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    cmd = [sys.executable, "-m", "installation", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)


def refused(proc: subprocess.CompletedProcess[str], *words: str) -> str:
    """The one error line of a refused output; exit 2, no traceback."""
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def show(small_show: Callable[..., Show]) -> Show:
    return small_show()


def test_preview_refuses_a_device_a_fifo_a_folder_and_a_symlink(show: Show, tmp_path: Path) -> None:
    dev_full = Path("/dev/full")
    if dev_full.exists():  # refusing touches nothing, as root too
        refused(
            installation("preview", show.folder, "--dice", "1,2", "-o", dev_full),
            "-o /dev/full: is a character device",
            "regular file",
        )
        assert stat.S_ISCHR(os.lstat(dev_full).st_mode)
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)  # a writer would hang on it without a reader: it must never be opened
    refused(installation("preview", show.folder, "--dice", "1,2", "-o", fifo), "FIFO")
    refused(installation("sheet", show.folder, "-o", tmp_path), "is a folder")
    target = tmp_path / "precious.png"
    target.write_bytes(b"keep")
    link = tmp_path / "link.png"
    link.symlink_to(target)
    line = refused(installation("sheet", show.folder, "-o", link), "is a symlink (to ")
    assert str(target) in line
    assert link.is_symlink() and target.read_bytes() == b"keep"
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert not list(show.storage_dir.glob("cache/*.png"))  # refused before any rendering


def test_preview_makes_folders_only_with_parents(show: Show, tmp_path: Path) -> None:
    out = tmp_path / "new" / "dir" / "x.png"
    refused(
        installation("preview", show.folder, "--dice", "1,2", "-o", out),
        f"{out.parent} does not exist",
        "--parents",
    )
    assert not (tmp_path / "new").exists()
    done = installation("preview", show.folder, "--dice", "1,2", "-o", out, "--parents")
    assert done.returncode == 0, done.stderr
    assert stat.S_ISREG(out.lstat().st_mode)


def test_archive_outputs(show: Show, tmp_path: Path) -> None:
    archived(show, [((3, 2), DAY1)], {"engine": "fallback"})
    day = "2026-05-01"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    linked = tmp_path / "linked"
    linked.symlink_to(elsewhere)
    refused(installation("archive", show.folder, "pick", "1", "--to", linked), "--to", "symlink")
    refused(
        installation("archive", show.folder, "pick", "1", "--to", tmp_path / "a" / "b"), "--parents"
    )
    assert not list(elsewhere.iterdir()) and not (tmp_path / "a").exists()
    sel = tmp_path / "sel"
    assert installation("archive", show.folder, "pick", "1", "--to", sel).returncode == 0
    (sel / "export").symlink_to(elsewhere)  # the default export folder, linked away
    refused(
        installation("archive", show.folder, "export", "--from", sel, "--size", "64x64"),
        "export: is a symlink",
    )
    out = tmp_path / "d" / "day.png"
    refused(installation("archive", show.folder, "sheet", "--day", day, "-o", out), "--parents")
    done = installation("archive", show.folder, "sheet", "--day", day, "-o", out, "--parents")
    assert done.returncode == 0, done.stderr
    assert not list(elsewhere.iterdir())


def test_a_file_in_an_output_folder_is_replaced_never_written_through(
    show: Show, tmp_path: Path
) -> None:
    archived(show, [((3, 2), DAY1)], {"engine": "fallback"})
    sel = tmp_path / "sel"
    assert installation("archive", show.folder, "pick", "1", "--to", sel).returncode == 0
    [png] = sel.glob("*.png")
    target = tmp_path / "precious"
    target.write_bytes(b"keep")
    png.unlink()
    png.symlink_to(target)  # someone links a selection file elsewhere
    refused(installation("archive", show.folder, "pick", "1", "--to", sel), "is a symlink")
    assert target.read_bytes() == b"keep" and png.is_symlink()


def test_model_folders(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    link = tmp_path / "linked"
    link.symlink_to(elsewhere)
    refused(installation("models", "make-tiny", link), "make-tiny", "is a symlink")
    refused(installation("models", "make-tiny", tmp_path / "x" / "tiny"), "--parents")
    refused(
        installation("models", "pull", "org/name", "--to", Path("/dev/null")),
        "--to /dev/null: is a character device",
    )
    assert not list(elsewhere.iterdir()) and not (tmp_path / "x").exists()


def test_dice_emulate_link_never_replaces_a_file_or_a_device(tmp_path: Path) -> None:
    """--link keeps a symlink to the pty there, replacing what is there: only a link may be."""
    keep = tmp_path / "port"
    keep.write_text("keep")
    line = refused(installation("dice", "emulate", "--link", keep), "--link", "a regular file")
    assert "new path or an existing symlink" in line and keep.read_text() == "keep"
    refused(installation("dice", "emulate", "--link", Path("/dev/null")), "character device")
    assert stat.S_ISCHR(os.lstat("/dev/null").st_mode)
