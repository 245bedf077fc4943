"""Image loading (cover/contain geometry, errors) and the placeholder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from installation.engines.images import load_rgb, placeholder
from installation.errors import EngineError, ImageFileError, InstallationError

RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)


def stripes(path: Path) -> Path:
    """A 300x100 image: red, green and blue vertical stripes, 100 px each."""
    a = np.zeros((100, 300, 3), np.uint8)
    a[:, :100], a[:, 100:200], a[:, 200:] = RED, GREEN, BLUE
    Image.fromarray(a).save(path)
    return path


def test_no_size_keeps_the_image(tmp_path: Path) -> None:
    img = load_rgb(stripes(tmp_path / "s.png"))
    assert img.shape == (100, 300, 3) and img.dtype == np.uint8
    assert tuple(img[50, 150]) == GREEN


def test_cover_fills_and_crops_the_centre(tmp_path: Path) -> None:
    img = load_rgb(stripes(tmp_path / "s.png"), (50, 50), fit="cover")
    assert img.shape == (50, 50, 3)
    # Scaled to 150x50 then centre-cropped: only the green stripe remains.
    assert np.abs(img[:, 5:45].astype(int) - GREEN).max() <= 2


def test_contain_letterboxes_in_black(tmp_path: Path) -> None:
    img = load_rgb(stripes(tmp_path / "s.png"), (60, 60), fit="contain")
    assert img.shape == (60, 60, 3)
    # Scaled to 60x20, centred: black bars of 20 rows above and below.
    assert img[:19].max() == 0 and img[41:].max() == 0
    assert tuple(img[30, 5]) == RED and tuple(img[30, 30]) == GREEN and tuple(img[30, 55]) == BLUE


def test_modes_become_rgb(tmp_path: Path) -> None:
    Image.new("LA", (20, 10), (128, 200)).save(tmp_path / "grey.png")
    Image.new("P", (20, 10), 3).save(tmp_path / "pal.png")
    for name in ("grey.png", "pal.png"):
        assert load_rgb(tmp_path / name).shape == (10, 20, 3)


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    im = Image.new("RGB", (40, 20), RED)
    exif = im.getexif()
    exif[0x0112] = 6  # "rotate 90 CW to display": a phone photo taken upright
    im.save(tmp_path / "phone.jpg", exif=exif)
    assert load_rgb(tmp_path / "phone.jpg").shape == (40, 20, 3)


@pytest.mark.parametrize("content", [b"", b"not an image at all", None])
def test_broken_files_name_the_file(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "painting.png"
    if content is None:  # a truncated PNG: a real header, half the data
        stripes(tmp_path / "full.png")
        content = (tmp_path / "full.png").read_bytes()[:200]
    path.write_bytes(content)
    with pytest.raises(ImageFileError, match=r"painting\.png") as e:
        load_rgb(path, (32, 32))
    assert isinstance(e.value, InstallationError) and isinstance(e.value, ValueError)
    assert not isinstance(e.value, EngineError)  # a missing poster is no engine failure


def test_missing_file_and_folder_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ImageFileError, match=r"nope\.png: no such image file"):
        load_rgb(tmp_path / "nope.png")
    with pytest.raises(ImageFileError, match="is a folder"):
        load_rgb(tmp_path)


def test_bad_fit_and_size_say_what_is_accepted(tmp_path: Path) -> None:
    path = stripes(tmp_path / "s.png")
    with pytest.raises(ValueError, match="cover, contain"):
        load_rgb(path, (10, 10), fit="stretch")
    with pytest.raises(ValueError, match="positive integers"):
        load_rgb(path, (0, 10))


def test_placeholder_writes_the_text() -> None:
    blank = placeholder((200, 120), "")
    text = placeholder((200, 120), "No painting yet\nput one in artwork/")
    assert text.shape == (120, 200, 3) and text.dtype == np.uint8
    changed = np.abs(text.astype(int) - blank).max(axis=2) > 60
    rows = np.flatnonzero(changed.any(axis=1))
    assert changed.sum() > 100
    assert rows.min() > 20 and rows.max() < 100  # centred vertically, two lines
