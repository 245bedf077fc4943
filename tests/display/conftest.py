"""Kiosk fixtures: SDL's dummy driver, a fake clock and a factory for opened kiosks.

What tests import lives in kiosk_helpers.py (as tests.display.kiosk_helpers): a module
named conftest would be whichever folder's conftest was imported first."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from installation.display.kiosk import Kiosk
from installation.show.schema import DisplaySection
from tests.display.kiosk_helpers import FakeClock, KioskFactory


@pytest.fixture(autouse=True)
def headless_sdl(monkeypatch: pytest.MonkeyPatch) -> None:
    """Set before any pygame.init(): an offscreen surface we can read back exactly."""
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    monkeypatch.setenv("SDL_AUDIODRIVER", "dummy")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_kiosk(clock: FakeClock) -> Iterator[KioskFactory]:
    """Open a kiosk with DisplaySection(**settings) (windowed 320x240 unless told otherwise)."""
    opened: list[Kiosk] = []

    def make(*, title: str = "", artist: str = "", dice: int = 2, **settings: Any) -> Kiosk:
        settings.setdefault("fullscreen", False)
        settings.setdefault("window_size", (320, 240))
        kiosk = Kiosk(
            DisplaySection(**settings), title=title, artist=artist, dice=dice, clock=clock
        )
        kiosk.open()
        opened.append(kiosk)
        return kiosk

    yield make
    for kiosk in opened:
        kiosk.close()
