"""The code-painted die (demo artwork) and the painter's command line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from installation.curate.painter import Cube, _convex_hull, main, paint_die
from installation.engines.images import load_rgb
from installation.storage.png import read_png_text

ARTWORK = Path(__file__).resolve().parents[2] / "shows" / "demo" / "artwork.png"


@pytest.fixture(scope="module")
def small_die() -> np.ndarray:
    return paint_die((128, 128), seed=7)


def luma(img: np.ndarray) -> np.ndarray:
    out: np.ndarray = img[..., 0] * 0.3 + img[..., 1] * 0.59 + img[..., 2] * 0.11
    return out


def test_deterministic_per_seed(small_die: np.ndarray) -> None:
    assert small_die.shape == (128, 128, 3) and small_die.dtype == np.uint8
    assert paint_die((128, 128), seed=7).tobytes() == small_die.tobytes()
    other = paint_die((128, 128), seed=8)
    assert other.tobytes() != small_die.tobytes()
    # Another seed moves the brush strokes, not the motif.
    assert np.abs(other.astype(int) - small_die).mean() < 20


def test_the_motif_reads_as_a_light_die_on_a_dark_ground(small_die: np.ndarray) -> None:
    y = luma(small_die.astype(np.float32))
    die = y[50:75, 40:70]  # the die's left face, around its centre
    corners = np.concatenate([y[:15, :15].ravel(), y[:15, -15:].ravel(), y[-15:, -15:].ravel()])
    assert die.mean() > corners.mean() + 80
    assert (die < 80).any()  # pips: dark spots on the ivory
    assert small_die[..., 0].mean() > small_die[..., 2].mean() + 20  # a warm palette


def test_non_square_sizes() -> None:
    assert paint_die((160, 96), seed=1).shape == (96, 160, 3)


def test_the_cube_shows_three_faces_facing_the_viewer() -> None:
    cube = Cube(center=(0, 0), scale=1)
    for face in cube.faces:
        normal = cube.to_camera(cube.face_frames()[face][0])
        assert normal[2] > 0, face  # towards the camera
    assert cube.brightness("top") > cube.brightness("right")  # lit from the upper left


def test_convex_hull_drops_inner_points() -> None:
    pts = [(0.0, 0.0), (2.0, 0.0), (2.0, 2.0), (0.0, 2.0), (1.0, 1.0), (1.0, 0.0)]
    assert sorted(_convex_hull(pts)) == [(0.0, 0.0), (0.0, 2.0), (2.0, 0.0), (2.0, 2.0)]


def test_command_line_writes_a_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "die.png"
    assert main([str(out), "--size", "96", "--seed", "3"]) == 0
    assert load_rgb(out).shape == (96, 96, 3)
    assert read_png_text(out)["Seed"] == "3"
    assert str(out) in capsys.readouterr().out
    assert main([str(tmp_path / "p.png"), "--size", "64", "--placeholder", "hello"]) == 0
    assert load_rgb(tmp_path / "p.png").shape == (64, 64, 3)


def test_command_line_rejects_a_bad_size(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as e:
        main([str(tmp_path / "x.png"), "--size", "10"])
    assert e.value.code == 2 and "64..4096" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


def test_the_demo_artwork_is_in_the_repo() -> None:
    img = load_rgb(ARTWORK)
    assert img.shape == (768, 768, 3)
    assert read_png_text(ARTWORK)["Software"] == "installation painter"
