"""User-named outputs (-o FILE, --to DIR) on real files: a regular file or a new one is
written; a device, FIFO, folder or symlink is refused and left as it was; no folder is
made without parents=True."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest

from installation.errors import OutputPathError
from installation.storage.atomic import write_atomic
from installation.storage.outputs import checked_output, checked_output_dir
from installation.storage.png import save_png


def test_a_new_file_and_a_regular_file_are_accepted(tmp_path: Path) -> None:
    new = tmp_path / "new.png"
    assert checked_output(new, parents=False) == new and not new.exists()
    old = tmp_path / "old.png"
    old.write_bytes(b"old")
    assert checked_output(old, parents=False) == old
    write_atomic(old, b"new", output=True)
    assert old.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.png"]  # no temp file left


def test_a_symlink_is_refused_and_neither_it_nor_its_target_changes(tmp_path: Path) -> None:
    target = tmp_path / "precious.txt"
    target.write_bytes(b"keep me")
    link = tmp_path / "out.png"
    link.symlink_to(target)
    with pytest.raises(OutputPathError, match=r"out\.png: is a symlink \(to .*precious\.txt\)"):
        checked_output(link, parents=False)
    with pytest.raises(OutputPathError, match="symlink"):
        write_atomic(link, b"x", output=True)
    assert link.is_symlink() and target.read_bytes() == b"keep me"
    dangling = tmp_path / "dangling.png"
    dangling.symlink_to(tmp_path / "nowhere")
    with pytest.raises(OutputPathError, match="is a symlink"):
        checked_output(dangling, parents=False)
    assert not (tmp_path / "nowhere").exists()


def test_a_fifo_a_folder_and_a_device_are_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    folder = tmp_path / "folder.png"
    folder.mkdir()
    for path, kind in ((fifo, "a FIFO"), (folder, "a folder"), (Path("/dev/null"), "a char")):
        with pytest.raises(OutputPathError, match=f"{path}: is {kind}") as caught:
            checked_output(path, parents=False)
        assert "takes a new file or an existing regular file" in str(caught.value)
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and folder.is_dir()
    assert stat.S_ISCHR(os.lstat("/dev/null").st_mode)


def test_something_put_there_after_the_check_is_refused_at_the_rename(tmp_path: Path) -> None:
    out = checked_output(tmp_path / "out.png", parents=False)
    os.mkfifo(out)  # appears while the (slow) render runs
    with pytest.raises(OutputPathError, match="FIFO"):
        save_png(np.zeros((4, 4, 3), np.uint8), out, output=True)
    assert stat.S_ISFIFO(out.lstat().st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]  # the temp file went too


def test_a_missing_folder_is_made_only_when_asked(tmp_path: Path) -> None:
    out = tmp_path / "a" / "b" / "x.png"
    with pytest.raises(OutputPathError, match=r"folder .*a/b does not exist; .* --parents"):
        checked_output(out, parents=False)
    with pytest.raises(FileNotFoundError):
        write_atomic(out, b"x", output=True)  # no mkdir behind the check's back either
    assert not (tmp_path / "a").exists()
    assert checked_output(out, parents=True) == out and out.parent.is_dir()
    file_parent = tmp_path / "file"
    file_parent.write_bytes(b"")
    with pytest.raises(OutputPathError, match="is not a folder"):
        checked_output(file_parent / "x.png", parents=True)


def test_output_folders(tmp_path: Path) -> None:
    made = checked_output_dir(tmp_path / "sel", parents=False)
    assert made.is_dir()
    assert checked_output_dir(made, parents=False) == made  # an existing folder is fine
    with pytest.raises(OutputPathError, match=r"--to .*: the folder .*x does not exist"):
        checked_output_dir(tmp_path / "x" / "sel", parents=False)
    assert checked_output_dir(tmp_path / "x" / "sel", parents=True).is_dir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    link = tmp_path / "linked"
    link.symlink_to(elsewhere)
    file = tmp_path / "file"
    file.write_bytes(b"")
    for path, kind in ((link, "a symlink"), (file, "a regular file"), (Path("/dev/null"), "a")):
        with pytest.raises(OutputPathError, match=f"{path}: is {kind}.*takes a new folder"):
            checked_output_dir(path, parents=True)
