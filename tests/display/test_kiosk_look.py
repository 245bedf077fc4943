"""Screenshots of what a visitor sees (attract, a variation with its label, an error).

Run with `--basetemp=/tmp/look` to keep the PNGs and look at them: the label must
read on a bright and a dark picture, the invitation on any painting.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from installation.display.label import LabelInfo
from tests.display.kiosk_helpers import FakeClock, KioskFactory


def painting(w: int = 512, h: int = 512) -> np.ndarray:
    """A stand-in painting: a sky-to-field gradient with a bright sun and a dark hill."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.zeros((h, w, 3), np.float32)
    img[..., 0] = 90 + 120 * y / h
    img[..., 1] = 140 + 60 * np.sin(x / w * 3)
    img[..., 2] = 230 - 160 * y / h
    sun = (x - w * 0.7) ** 2 + (y - h * 0.25) ** 2 < (w * 0.08) ** 2
    img[sun] = (255, 245, 200)
    hill = y > h * 0.7 + 40 * np.sin(x / w * 6)
    img[hill] = (30, 60, 25)
    return img.astype(np.uint8)


def test_screens_a_visitor_sees(make_kiosk: KioskFactory, clock: FakeClock, tmp_path: Path) -> None:
    kiosk = make_kiosk(
        window_size=(1280, 720), transition_ms=800, fit="contain", title="The Garden",
        artist="A. Painter", attract_text="Throw the dice",
    )  # fmt: skip
    kiosk.set_artwork(painting())
    assert kiosk.wait_ready()
    kiosk.set_state("attract")
    clock.advance(3)  # mid-breath: the invitation at full strength
    kiosk.frame()
    attract = kiosk.screenshot(tmp_path / "attract.png")
    kiosk.set_state("presenting")
    kiosk.present(painting()[::-1].copy(), LabelInfo((3, 5), "Variation 17 · seed 2793012217"))
    assert kiosk.wait_ready()
    clock.advance(2)
    kiosk.frame()
    label = kiosk.screenshot(tmp_path / "label.png")
    kiosk.set_state("rolling")
    kiosk.set_overlay("show.toml:14: variations.strenght: unknown key. Did you mean 'strength'?")
    kiosk.frame()
    overlay = kiosk.screenshot(tmp_path / "overlay.png")
    shots = [np.asarray(Image.open(p).convert("RGB")) for p in (attract, label, overlay)]
    assert all(s.shape == (720, 1280, 3) for s in shots)
    assert not np.array_equal(shots[0], shots[1]) and not np.array_equal(shots[1], shots[2])
