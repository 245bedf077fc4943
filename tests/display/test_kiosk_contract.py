"""One contract, run over the real Kiosk (dummy SDL) and FakeKiosk."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from installation.core.events import RandomThrow
from installation.display.fake import FakeKiosk
from installation.display.kiosk import STATES, BadImage, Kiosk
from installation.display.label import LabelInfo
from installation.errors import DisplayError
from installation.show.schema import DisplaySection
from tests.display.kiosk_helpers import BLUE, RED, FakeClock, solid

CONFIG = DisplaySection(fullscreen=False, window_size=(64, 64), transition_ms=0, fit="cover",
                        label=False)  # fmt: skip


@pytest.fixture(params=["real", "fake"])
def kiosk(request: pytest.FixtureRequest, clock: FakeClock) -> Iterator[Kiosk | FakeKiosk]:
    cls = Kiosk if request.param == "real" else FakeKiosk
    k = cls(CONFIG, title="T", artist="A", dice=2, faces=6, clock=clock)
    yield k
    k.close()


def test_present_before_open_fails_alike(kiosk: Kiosk | FakeKiosk) -> None:
    with pytest.raises(DisplayError):
        kiosk.present(solid(RED), None)


def test_the_shown_picture_reads_back(kiosk: Kiosk | FakeKiosk, tmp_path: Path) -> None:
    kiosk.set_artwork(solid(BLUE, 64, 64))
    assert kiosk.wait_ready()
    kiosk.open()
    kiosk.set_state("attract")
    kiosk.set_state("presenting")
    kiosk.present(solid(RED, 64, 64), LabelInfo((1, 2), "Variation 2"))
    assert kiosk.wait_ready()
    kiosk.frame()
    assert kiosk.size == (64, 64)
    assert (kiosk.read_pixels() == RED).all()
    kiosk.set_state("standby")
    kiosk.frame()
    assert not kiosk.read_pixels().any()
    shot = kiosk.screenshot(tmp_path / "s.png")
    assert np.asarray(Image.open(shot)).shape == (64, 64, 3)


def test_refusals_match(kiosk: Kiosk | FakeKiosk) -> None:
    kiosk.open()
    with pytest.raises(BadImage, match="dtype"):
        kiosk.present(np.zeros((4, 4, 3), np.float64), None)
    with pytest.raises(ValueError, match="not known"):
        kiosk.set_state("off")
    for state in STATES:
        kiosk.set_state(state)


def test_status_has_the_same_keys(kiosk: Kiosk | FakeKiosk) -> None:
    kiosk.open()
    kiosk.frame()
    real_keys = {
        "frames",
        "fps",
        "frame_ms_p50",
        "frame_ms_p99",
        "longest_gap_ms",
        "state",
        "size",
        "driver",
        "vsync",
        "fading",
        "ignored_keys",
        "overlay",
        "banner",
        "woken",
        "late",
        "prepared_used",
        "redraws",
    }
    stats = kiosk.stats()
    assert set(stats) == real_keys and stats["frames"] == 1


def test_fake_scripts_input_and_records() -> None:
    fake = FakeKiosk(CONFIG)
    fake.open()
    fake.push_input(RandomThrow("keyboard"))
    assert fake.poll_input() == [RandomThrow("keyboard")]
    assert fake.poll_input() == []
    fake.set_overlay("bad show")
    fake.set_overlay(None)
    fake.set_state("rolling")
    assert fake.overlays == ["bad show", None] and fake.states == ["rolling"]
    assert fake.current is None  # no artwork, nothing presented: black


def test_fake_open_error_simulates_no_display() -> None:
    fake = FakeKiosk(CONFIG, open_error=DisplayError("no display"))
    with pytest.raises(DisplayError, match="no display"):
        fake.open()
