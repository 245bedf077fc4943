"""What the kiosk puts on the screen, read back from SDL's dummy driver."""

from __future__ import annotations

import numpy as np
import pytest

from installation.display.label import LabelInfo
from tests.display.kiosk_helpers import BLUE, GREEN, RED, FakeClock, KioskFactory, solid


def centre(pixels: np.ndarray) -> tuple[int, ...]:
    h, w = pixels.shape[:2]
    return tuple(int(v) for v in pixels[h // 2, w // 2])


def test_present_with_a_cut_shows_the_image(make_kiosk: KioskFactory) -> None:
    kiosk = make_kiosk(transition_ms=0, fit="cover", label=False)
    kiosk.present(solid(RED), None)
    assert kiosk.wait_ready()
    kiosk.frame()
    pixels = kiosk.read_pixels()
    assert pixels.shape == (240, 320, 3)
    assert (pixels == RED).all()


def test_contain_letterboxes_in_the_background_colour(make_kiosk: KioskFactory) -> None:
    kiosk = make_kiosk(transition_ms=0, fit="contain", background="#102030", label=False)
    kiosk.present(solid(RED), None)  # square picture on a 4:3 screen: 240x240 at x=40
    assert kiosk.wait_ready()
    kiosk.frame()
    pixels = kiosk.read_pixels()
    assert (pixels[:, 40:280] == RED).all()
    assert (pixels[:, :40] == (0x10, 0x20, 0x30)).all()
    assert (pixels[:, 280:] == (0x10, 0x20, 0x30)).all()


def test_cover_crops_the_sides_of_a_wide_picture(make_kiosk: KioskFactory) -> None:
    wide = solid(BLUE, w=200, h=50)
    wide[:, :20] = GREEN  # outer tenth: cropped by cover, visible with contain
    cover = make_kiosk(transition_ms=0, fit="cover", label=False)
    cover.present(wide, None)
    assert cover.wait_ready()
    cover.frame()
    assert (cover.read_pixels() == BLUE).all()
    cover.close()
    contain = make_kiosk(transition_ms=0, fit="contain", label=False)
    contain.present(wide, None)
    assert contain.wait_ready()
    contain.frame()
    pixels = contain.read_pixels()
    assert tuple(pixels[120, 5]) == GREEN
    assert tuple(pixels[5, 160]) == (0, 0, 0)  # letterbox above the picture


def test_crossfade_midpoint_mixes_old_and_new(make_kiosk: KioskFactory, clock: FakeClock) -> None:
    kiosk = make_kiosk(transition_ms=1000, fit="cover", label=False)
    kiosk.present(solid(RED), None)
    assert kiosk.wait_ready()
    clock.advance(2)
    kiosk.frame()
    assert centre(kiosk.read_pixels()) == RED
    kiosk.present(solid(BLUE), None)
    assert kiosk.wait_ready()
    kiosk.frame()
    assert centre(kiosk.read_pixels()) == RED  # a fade starts where the screen is
    clock.advance(0.5)
    kiosk.frame()
    r, g, b = centre(kiosk.read_pixels())
    assert abs(r - 127) <= 2 and g == 0 and abs(b - 128) <= 2
    assert kiosk.stats()["fading"] is True
    clock.advance(0.6)
    kiosk.frame()
    assert centre(kiosk.read_pixels()) == BLUE
    assert kiosk.stats()["fading"] is False


def test_present_during_a_fade_continues_from_the_mix(
    make_kiosk: KioskFactory, clock: FakeClock
) -> None:
    kiosk = make_kiosk(transition_ms=1000, fit="cover", label=False)
    kiosk.present(solid(RED), None)
    assert kiosk.wait_ready()
    clock.advance(2)
    kiosk.present(solid(BLUE), None)
    assert kiosk.wait_ready()
    clock.advance(0.5)
    kiosk.frame()
    purple = np.array(centre(kiosk.read_pixels()))
    kiosk.present(solid(GREEN), None)
    assert kiosk.wait_ready()
    kiosk.frame()
    assert np.abs(np.array(centre(kiosk.read_pixels())) - purple).max() <= 1  # no jump
    clock.advance(0.5)
    kiosk.frame()
    expected = (purple + np.array(GREEN)) / 2
    assert np.abs(np.array(centre(kiosk.read_pixels())) - expected).max() <= 3


def test_label_is_drawn_bottom_left(make_kiosk: KioskFactory) -> None:
    with_label = make_kiosk(transition_ms=0, fit="cover", label=True, window_size=(640, 480))
    with_label.present(solid(RED), LabelInfo((3, 5), "Variation 12 · seed 1234567"))
    assert with_label.wait_ready()
    with_label.frame()
    pixels = with_label.read_pixels()
    corner = pixels[400:470, 10:300]
    assert (corner != RED).any(axis=2).mean() > 0.3  # band, dice and text cover the corner
    assert ((corner == (255, 255, 255)).all(axis=2)).sum() > 200  # white dice
    assert (pixels[:300] == RED).all()  # the rest of the picture is untouched


def test_label_can_be_switched_off(make_kiosk: KioskFactory) -> None:
    kiosk = make_kiosk(transition_ms=0, fit="cover", label=False, window_size=(640, 480))
    kiosk.present(solid(RED), LabelInfo((3, 5), "Variation 12"))
    assert kiosk.wait_ready()
    kiosk.frame()
    assert (kiosk.read_pixels() == RED).all()


def test_attract_shows_the_artwork_with_a_pulsing_invitation(
    make_kiosk: KioskFactory, clock: FakeClock
) -> None:
    kiosk = make_kiosk(transition_ms=500, fit="cover", label=False)
    kiosk.set_artwork(solid(GREEN))
    assert kiosk.wait_ready()
    kiosk.set_state("attract")
    clock.advance(1)
    kiosk.frame()
    first = kiosk.read_pixels()
    assert tuple(first[10, 10]) == GREEN
    band = first[150:200]  # the invitation sits at 72 % of the height
    assert (band != GREEN).any(axis=2).sum() > 500
    clock.advance(1.5)
    kiosk.frame()
    assert not np.array_equal(kiosk.read_pixels()[150:200], band)  # it breathes
    kiosk.set_state("presenting")
    kiosk.frame()
    assert (kiosk.read_pixels() == GREEN).all()  # no invitation once a throw is on


def test_artwork_is_the_first_picture(make_kiosk: KioskFactory, clock: FakeClock) -> None:
    kiosk = make_kiosk(transition_ms=500, fit="cover", label=False)
    kiosk.set_state("rolling")
    kiosk.set_artwork(solid(BLUE))
    assert kiosk.wait_ready()
    clock.advance(1)
    kiosk.frame()
    assert tuple(kiosk.read_pixels()[10, 10]) == BLUE


def test_standby_fades_to_black_and_comes_back(make_kiosk: KioskFactory, clock: FakeClock) -> None:
    kiosk = make_kiosk(transition_ms=400, fit="cover", label=False)
    kiosk.set_state("presenting")
    kiosk.present(solid(RED), None)
    assert kiosk.wait_ready()
    clock.advance(1)
    kiosk.set_state("standby")
    kiosk.present(solid(BLUE), None)  # arrives while closed: kept, not shown
    assert kiosk.wait_ready()
    clock.advance(1)
    kiosk.frame()
    assert not kiosk.read_pixels().any()
    kiosk.set_state("presenting")
    clock.advance(1)
    kiosk.frame()
    assert (kiosk.read_pixels() == BLUE).all()


def test_blackout_cuts_to_black_and_hides_the_overlay(
    make_kiosk: KioskFactory, clock: FakeClock
) -> None:
    kiosk = make_kiosk(transition_ms=5000, fit="cover", label=False)
    kiosk.present(solid(RED), None)
    assert kiosk.wait_ready()
    clock.advance(10)
    kiosk.set_overlay("show.toml:3: display.fit: 'covr' is not one of 'cover', 'contain'")
    kiosk.set_state("blackout")
    kiosk.frame()
    assert not kiosk.read_pixels().any()
    kiosk.set_state("standby")
    clock.advance(10)
    kiosk.frame()
    assert kiosk.read_pixels()[:60].any()  # standby is black, but rehearsal errors still show


def test_overlay_appears_and_goes(make_kiosk: KioskFactory) -> None:
    kiosk = make_kiosk(transition_ms=0, fit="cover", label=False)
    kiosk.present(solid(BLUE), None)
    assert kiosk.wait_ready()
    kiosk.set_overlay("show.toml:3: unknown key 'strenght'. Did you mean 'strength'?")
    kiosk.frame()
    assert (kiosk.read_pixels()[:60] != BLUE).any()
    kiosk.set_overlay(None)
    kiosk.frame()
    assert (kiosk.read_pixels() == BLUE).all()


def test_rolling_shows_a_subtle_cue(make_kiosk: KioskFactory) -> None:
    kiosk = make_kiosk(transition_ms=0, fit="cover", label=False)
    kiosk.present(solid(BLUE), None)
    assert kiosk.wait_ready()
    kiosk.set_state("rolling")
    kiosk.frame()
    changed = (kiosk.read_pixels() != BLUE).any(axis=2)
    assert 0 < changed.sum() < 0.01 * changed.size
    assert changed[200:].any() and not changed[:200].any()


def test_unknown_state_is_refused_with_the_choices(make_kiosk: KioskFactory) -> None:
    kiosk = make_kiosk()
    with pytest.raises(ValueError, match=r"'sleeping'.*attract, rolling, presenting"):
        kiosk.set_state("sleeping")


def test_attract_without_artwork_invites_over_the_last_variation(
    make_kiosk: KioskFactory, clock: FakeClock
) -> None:
    kiosk = make_kiosk(transition_ms=0, fit="cover", label=False)
    kiosk.set_state("presenting")
    kiosk.present(solid(RED), None)
    assert kiosk.wait_ready()
    kiosk.set_state("attract")
    kiosk.frame()
    pixels = kiosk.read_pixels()
    assert tuple(pixels[10, 10]) == RED
    assert (pixels[150:200] != RED).any()


def test_a_present_in_attract_hides_the_invitation(make_kiosk: KioskFactory) -> None:
    kiosk = make_kiosk(transition_ms=0, fit="cover", label=False)
    kiosk.set_artwork(solid(GREEN))
    assert kiosk.wait_ready()
    kiosk.present(solid(BLUE), None)
    assert kiosk.wait_ready()
    kiosk.frame()
    assert (kiosk.read_pixels() == BLUE).all()


def test_standby_shows_the_poster_when_the_show_has_one(
    make_kiosk: KioskFactory, clock: FakeClock
) -> None:
    kiosk = make_kiosk(transition_ms=0, fit="cover", label=False)
    kiosk.set_poster(solid(GREEN))
    kiosk.set_state("presenting")
    kiosk.present(solid(RED), None)
    assert kiosk.wait_ready()
    kiosk.frame()
    assert (kiosk.read_pixels() == RED).all()
    kiosk.set_state("standby")
    kiosk.frame()
    assert (kiosk.read_pixels() == GREEN).all()
    kiosk.set_state("blackout")  # blackout stays black, poster or not
    kiosk.frame()
    assert not kiosk.read_pixels().any()
    kiosk.set_state("presenting")
    kiosk.frame()
    assert (kiosk.read_pixels() == RED).all()
