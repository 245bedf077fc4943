"""Atomic PNG writing with text chunks, and reading the text back."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from installation.engines.images import load_rgb
from installation.errors import ImageFileError
from installation.storage.png import read_png_text, save_png


def test_png_round_trip_with_text(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (33, 47, 3), dtype=np.uint8)
    text = {"seed": "1234", "prompt": "a die, painted — à la Chardin", "faces": "3-5"}
    path = tmp_path / "v.png"
    save_png(img, path, text)
    assert np.array_equal(load_rgb(path), img)
    assert read_png_text(path) == text
    assert oct(path.stat().st_mode & 0o777) == oct(0o644)
    assert [p.name for p in tmp_path.iterdir()] == ["v.png"]


def test_failed_write_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "v.png"
    old = np.full((8, 8, 3), 7, np.uint8)
    save_png(old, path, {"k": "old"})

    def disk_full(self: Image.Image, fp: object, *args: object, **kwargs: object) -> None:
        fp.write(b"\x89PNG half")  # type: ignore[attr-defined]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", disk_full)
    with pytest.raises(OSError, match="No space"):
        save_png(np.zeros((8, 8, 3), np.uint8), path, {"k": "new"})
    with pytest.raises(OSError):
        save_png(np.zeros((8, 8, 3), np.uint8), tmp_path / "fresh.png")
    monkeypatch.undo()
    assert sorted(os.listdir(tmp_path)) == ["v.png"]  # no temp files, no fresh.png
    assert np.array_equal(load_rgb(path), old) and read_png_text(path) == {"k": "old"}


@pytest.mark.parametrize(
    ("image", "match"),
    [
        (np.zeros((8, 8), np.uint8), "HxWx3"),
        (np.zeros((8, 8, 4), np.uint8), "HxWx3"),
        (np.zeros((8, 8, 3), np.float32), "uint8"),
        ([[0, 0, 0]], "numpy array"),
    ],
)
def test_save_rejects_non_images(tmp_path: Path, image: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        save_png(image, tmp_path / "x.png")  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_save_rejects_bad_text_keys(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="1-79 ASCII"):
        save_png(np.zeros((4, 4, 3), np.uint8), tmp_path / "x.png", {"": "v"})
    assert list(tmp_path.iterdir()) == []


def test_read_png_text_errors(tmp_path: Path) -> None:
    Image.new("RGB", (4, 4)).save(tmp_path / "a.jpg")
    with pytest.raises(ImageFileError, match=r"a\.jpg: is JPEG, expected a PNG"):
        read_png_text(tmp_path / "a.jpg")
    with pytest.raises(ImageFileError, match="no such PNG"):
        read_png_text(tmp_path / "missing.png")
    (tmp_path / "junk.png").write_bytes(b"junk")
    with pytest.raises(ImageFileError, match=r"junk\.png"):
        read_png_text(tmp_path / "junk.png")
