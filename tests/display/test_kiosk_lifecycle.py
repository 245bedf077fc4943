"""Opening, errors a technician can act on, status numbers, screenshots."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from installation.display.kiosk import BadImage, Kiosk
from installation.display.label import LabelInfo
from installation.errors import DisplayError
from installation.show.schema import DisplaySection
from tests.display.kiosk_helpers import RED, FakeClock, KioskFactory, solid


def test_display_index_out_of_range_names_how_many_exist() -> None:
    kiosk = Kiosk(DisplaySection(display=3))
    with pytest.raises(DisplayError, match=r"display.display = 3.*only 1 display\(s\).*0\.\.0"):
        kiosk.open()


def test_missing_video_driver_gives_advice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDL_VIDEODRIVER", "kmsdrm-does-not-exist")
    with pytest.raises(DisplayError, match=r"SDL_VIDEODRIVER=kmsdrm.*SDL_VIDEODRIVER=dummy"):
        Kiosk(DisplaySection()).open()


@pytest.mark.skipif(os.path.exists("/dev/dri"), reason="a real console could open here")
def test_silent_fallback_to_an_invisible_driver_is_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("SDL_VIDEODRIVER", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(DisplayError, match=r"invisible 'offscreen' driver.*desktop session"):
        Kiosk(DisplaySection()).open()


def test_bad_background_and_window_size_are_named() -> None:
    with pytest.raises(DisplayError, match=r"display.background 'blackish'.*#rrggbb"):
        Kiosk(DisplaySection(background="blackish"))
    with pytest.raises(DisplayError, match=r"display.window_size \[10, 10\]"):
        Kiosk(DisplaySection(fullscreen=False, window_size=(10, 10))).open()


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (np.zeros((8, 8, 3), np.float32), "dtype is float32.*uint8"),
        (np.zeros((8, 8, 2), np.uint8), r"shape is \(8, 8, 2\).*HxWx3"),
        (np.zeros((0, 8, 3), np.uint8), r"shape is \(0, 8, 3\)"),
        ([[1, 2, 3]], "numpy array, got list"),
    ],
)
def test_bad_images_are_refused_clearly(
    make_kiosk: KioskFactory, image: object, message: str
) -> None:
    kiosk = make_kiosk()
    with pytest.raises(BadImage, match=message):
        kiosk.present(image, None)  # type: ignore[arg-type]


def test_grey_and_rgba_images_are_accepted(make_kiosk: KioskFactory) -> None:
    kiosk = make_kiosk(transition_ms=0, fit="cover", label=False)
    kiosk.present(np.full((16, 16), 200, np.uint8), None)
    assert kiosk.wait_ready()
    kiosk.frame()
    assert (kiosk.read_pixels() == 200).all()
    kiosk.present(np.dstack([solid(RED), np.zeros((64, 64), np.uint8)]), None)
    assert kiosk.wait_ready()
    kiosk.frame()
    assert (kiosk.read_pixels() == RED).all()  # alpha is dropped, not blended to black


def test_present_before_open_is_an_error() -> None:
    with pytest.raises(DisplayError, match="call open"):
        Kiosk(DisplaySection()).present(solid(RED), None)


def test_stats_count_frames_and_the_longest_gap(make_kiosk: KioskFactory, clock: FakeClock) -> None:
    kiosk = make_kiosk(fps=240)
    for step in (0.01, 0.01, 0.01, 0.25, 0.01):
        kiosk.frame()
        clock.advance(step)
    kiosk.frame()
    stats = kiosk.stats()
    assert stats["frames"] == 6
    assert stats["longest_gap_ms"] == 250.0
    assert stats["frame_ms_p50"] == 10.0 and stats["frame_ms_p99"] == 250.0
    assert stats["fps"] == pytest.approx(5 / 0.29, abs=0.1)
    assert stats["driver"] == "dummy" and stats["size"] == [320, 240]


def test_screenshot_is_a_png_of_the_screen(make_kiosk: KioskFactory, tmp_path: Path) -> None:
    kiosk = make_kiosk(transition_ms=0, label=True, window_size=(640, 480))
    kiosk.present(solid(RED), LabelInfo((2, 6), "Variation 12 · seed 1234567"))
    assert kiosk.wait_ready()
    kiosk.frame()
    path = kiosk.screenshot(tmp_path / "wall.png")
    assert np.array_equal(np.asarray(Image.open(path).convert("RGB")), kiosk.read_pixels())
    assert [p.name for p in tmp_path.iterdir()] == ["wall.png"]  # no temp file left


def test_close_twice_is_harmless(make_kiosk: KioskFactory) -> None:
    kiosk = make_kiosk()
    kiosk.close()
    kiosk.close()
    with pytest.raises(DisplayError):
        kiosk.frame()


def test_reopen_shows_the_artwork_again(make_kiosk: KioskFactory, clock: FakeClock) -> None:
    kiosk = make_kiosk(transition_ms=0, fit="cover", label=False)
    kiosk.set_artwork(solid(RED))
    assert kiosk.wait_ready()
    kiosk.close()
    kiosk.open()
    assert kiosk.wait_ready()  # the artwork is painted again for the new display
    kiosk.frame()
    assert tuple(kiosk.read_pixels()[10, 10]) == RED  # attract: the painting (and invitation)
