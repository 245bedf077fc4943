"""Kiosk.configure: live reload of display settings without reopening the window."""

from __future__ import annotations

import pytest

from installation.display.fake import FakeKiosk
from installation.display.kiosk import Kiosk
from installation.display.label import LabelInfo
from installation.errors import DisplayError
from installation.show.schema import DisplaySection
from tests.display.kiosk_helpers import BLUE, GREEN, RED, FakeClock, KioskFactory, solid


def settings(kiosk: Kiosk | FakeKiosk, **changes: object) -> DisplaySection:
    return kiosk.config.model_copy(update=changes)


def test_background_and_fit_repaint_what_is_on_the_wall(make_kiosk: KioskFactory) -> None:
    kiosk = make_kiosk(transition_ms=0, fit="contain", background="#000000", label=False)
    kiosk.present(solid(RED), None)  # square on 4:3: bars at x < 40 and x >= 280
    assert kiosk.wait_ready()
    kiosk.frame()
    assert (kiosk.read_pixels()[:, :40] == 0).all()
    kiosk.configure(settings(kiosk, background="#102030"), title="", artist="")
    assert kiosk.wait_ready()
    kiosk.frame()
    pixels = kiosk.read_pixels()
    assert (pixels[:, :40] == (0x10, 0x20, 0x30)).all()
    assert (pixels[:, 40:280] == RED).all()
    kiosk.configure(settings(kiosk, fit="cover"), title="", artist="")
    assert kiosk.wait_ready()
    kiosk.frame()
    assert (kiosk.read_pixels() == RED).all()


def test_label_off_and_on_and_the_credit_line(make_kiosk: KioskFactory) -> None:
    kiosk = make_kiosk(transition_ms=0, fit="cover", label=True, window_size=(640, 480))
    kiosk.present(solid(RED), LabelInfo((3, 5), "Variation 12"))
    assert kiosk.wait_ready()
    kiosk.frame()
    with_label = kiosk.read_pixels()
    assert (with_label[400:470, 10:300] != RED).any()
    kiosk.configure(settings(kiosk, label=False), title="", artist="")
    assert kiosk.wait_ready()
    kiosk.frame()
    assert (kiosk.read_pixels() == RED).all()
    kiosk.configure(settings(kiosk, label=True), title="Dice Garden", artist="A. Painter")
    assert kiosk.wait_ready()
    kiosk.frame()
    with_credit = kiosk.read_pixels()
    assert (with_credit[400:470, 10:300] != RED).any()
    assert not (with_credit == with_label).all()  # the title/artist line was added


def test_the_artwork_is_repainted_too(make_kiosk: KioskFactory, clock: FakeClock) -> None:
    kiosk = make_kiosk(transition_ms=0, fit="contain", label=False, attract_text="")
    kiosk.set_artwork(solid(GREEN))
    assert kiosk.wait_ready()
    kiosk.frame()
    assert tuple(kiosk.read_pixels()[10, 10]) == (0, 0, 0)
    kiosk.configure(settings(kiosk, background="#ffffff"), title="", artist="")
    assert kiosk.wait_ready()
    kiosk.frame()
    assert tuple(kiosk.read_pixels()[10, 10]) == (255, 255, 255)
    assert tuple(kiosk.read_pixels()[120, 160]) == GREEN


def test_a_reload_during_painting_repaints_the_present_in_the_new_look(
    make_kiosk: KioskFactory,
) -> None:
    kiosk = make_kiosk(transition_ms=0, fit="contain", label=False)
    kiosk.present(solid(BLUE), None)
    kiosk.configure(settings(kiosk, background="#ff0000"), title="", artist="")
    assert kiosk.wait_ready()
    kiosk.frame()
    pixels = kiosk.read_pixels()
    assert (pixels[:, :40] == RED).all() and (pixels[:, 40:280] == BLUE).all()


def test_attract_text_fps_and_transition_apply_at_once(
    make_kiosk: KioskFactory, clock: FakeClock
) -> None:
    kiosk = make_kiosk(transition_ms=0, fit="cover", label=False, attract_text="")
    kiosk.set_artwork(solid(GREEN))
    assert kiosk.wait_ready()
    kiosk.frame()
    assert (kiosk.read_pixels() == GREEN).all()  # no invitation text
    kiosk.configure(
        settings(kiosk, attract_text="Throw!", fps=30, transition_ms=1000), title="", artist=""
    )
    clock.advance(2)
    kiosk.frame()
    assert (kiosk.read_pixels()[150:200] != GREEN).any()  # the invitation appeared
    assert kiosk.config.fps == 30
    kiosk.set_state("presenting")
    kiosk.present(solid(RED), None)
    assert kiosk.wait_ready()
    clock.advance(0.5)
    kiosk.frame()
    r, g, _ = kiosk.read_pixels()[5, 5]
    assert 100 < r < 160 and 100 < g < 160  # half-way through the new 1 s crossfade


def test_restart_only_keys_are_kept_and_named(
    make_kiosk: KioskFactory, caplog: pytest.LogCaptureFixture
) -> None:
    kiosk = make_kiosk(transition_ms=0, fit="cover", label=False)
    new = settings(kiosk, fullscreen=True, window_size=(800, 600), display=1, fit="contain")
    kiosk.configure(new, title="", artist="")
    assert kiosk.config.fullscreen is False and kiosk.config.window_size == (320, 240)
    assert kiosk.config.display == 0 and kiosk.config.fit == "contain"
    assert kiosk.size == (320, 240)
    assert "fullscreen, display, window_size" in caplog.text and "restart" in caplog.text


@pytest.mark.parametrize("cls", [Kiosk, FakeKiosk])
def test_a_bad_colour_changes_nothing(cls: type, clock: FakeClock) -> None:
    config = DisplaySection(fullscreen=False, window_size=(64, 64), background="#000000")
    kiosk = cls(config, title="T", artist="A", clock=clock)
    bad = config.model_copy(update={"background": "blackish", "fps": 30})  # unvalidated copy
    with pytest.raises(DisplayError, match=r"display.background 'blackish'.*#rrggbb"):
        kiosk.configure(bad, title="New", artist="B")
    assert kiosk.config.fps == 60 and kiosk.title == "T"


def test_the_fake_records_what_was_applied() -> None:
    fake = FakeKiosk(DisplaySection(fullscreen=False, window_size=(64, 64)))
    fake.open()
    fake.configure(
        DisplaySection(fullscreen=True, window_size=(64, 64), fit="cover"), title="T", artist="A"
    )
    assert [c.fit for c in fake.configs] == ["cover"]
    assert fake.config.fullscreen is False and (fake.title, fake.artist) == ("T", "A")
    assert fake.settled() and fake.wait_ready()
