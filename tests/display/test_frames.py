"""Frames draw only what changed (display/layers.py Composer), and the wall never freezes.

Read back from SDL's dummy driver with a clock moved by hand: a still frame draws nothing,
but a fade still moves frame by frame, the breathing invitation and the rolling dots still
change their pixels, a new picture goes up on the next frame, a Wall's windows change on
the same frame, and a frame drawn in part equals the same frame drawn whole.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np
import pygame
import pytest

from installation.display.kiosk import Kiosk
from installation.display.label import LabelInfo
from installation.display.layers import aligned, union_area
from installation.display.wall import Wall
from tests.display.kiosk_helpers import BLUE, GREEN, RED, FakeClock, KioskFactory, solid
from tests.display.test_wall import make_wall, walls  # noqa: F401 - the fixture

FRAME_S = 1 / 60


def still_then(kiosk: Kiosk, clock: FakeClock, frames: int = 3) -> dict[str, int]:
    """Let the wall settle into still frames; the redraw counts after."""
    for _ in range(frames):
        clock.advance(FRAME_S)
        kiosk.frame()
    return dict(kiosk.composer.counts)


def still_red(make_kiosk: KioskFactory, clock: FakeClock) -> Kiosk:
    """A kiosk presenting a red painting (cut, no label, no invitation), settled still."""
    kiosk = make_kiosk(transition_ms=0, fit="cover", label=False)
    kiosk.set_artwork(solid(RED))
    kiosk.set_state("presenting")
    assert kiosk.wait_ready()
    still_then(kiosk, clock)
    return kiosk


def drawn_whole(kiosk: Kiosk) -> np.ndarray:
    """The same instant drawn from scratch: what a partial frame must equal. The screen is
    put back as it was, so partial frames keep building on partial frames."""
    screen = kiosk.need_screen()
    kept = screen.copy()
    kiosk.composer.invalidate()
    kiosk.draw(kiosk._clock())
    whole = kiosk.read_pixels()
    screen.blit(kept, (0, 0))
    return whole


def test_a_still_wall_draws_and_flips_nothing(make_kiosk: KioskFactory, clock: FakeClock) -> None:
    kiosk = make_kiosk(transition_ms=0, fit="cover", label=False)
    kiosk.set_artwork(solid(RED))
    kiosk.set_state("presenting")  # no invitation
    assert kiosk.wait_ready()
    kiosk.frame()
    before = kiosk.read_pixels()
    counts = still_then(kiosk, clock, 5)
    assert counts["still"] == 5 and kiosk.composer.last.full is False
    assert not kiosk.composer.last.rects
    np.testing.assert_array_equal(kiosk.read_pixels(), before)
    assert tuple(before[120, 160]) == RED
    assert kiosk.stats()["redraws"] == counts


def test_a_fade_moves_on_every_frame_until_it_ends(
    make_kiosk: KioskFactory, clock: FakeClock
) -> None:
    kiosk = make_kiosk(transition_ms=500, fit="cover", label=False)
    kiosk.set_state("presenting")
    kiosk.present(solid(RED), None)
    assert kiosk.wait_ready()
    clock.advance(1.0)
    still_then(kiosk, clock)  # red, still
    kiosk.present(solid(BLUE), None)
    assert kiosk.wait_ready()
    blues = []
    for _ in range(40):  # 0.66 s: the fade and then some
        kiosk.frame()
        blues.append(int(kiosk.read_pixels()[120, 160, 2]))
        clock.advance(FRAME_S)
    fading = blues[: int(0.5 / FRAME_S)]
    assert blues == sorted(blues) and blues[-1] == 255 and blues[0] < 40
    middle = fading[5:-5]  # away from the eased ends every frame has a new alpha byte
    assert all(b > a for a, b in itertools.pairwise(middle)), fading
    assert kiosk.composer.counts["full"] >= len(fading) - 2
    assert tuple(kiosk.read_pixels()[120, 160]) == BLUE
    assert kiosk.composer.last == type(kiosk.composer.last)()  # settled: still again


def test_the_invitation_keeps_breathing_drawn_in_part_as_if_whole(
    make_kiosk: KioskFactory, clock: FakeClock
) -> None:
    kiosk = make_kiosk(transition_ms=0, fit="cover", label=False, window_size=(480, 270))
    kiosk.set_artwork(solid(GREEN))
    assert kiosk.wait_ready()
    kiosk.frame()
    invitation = kiosk.cues.drawn[0].rect
    shots = []
    for _ in range(6):
        clock.advance(0.3)  # a 4 s breath: each step a new alpha
        kiosk.frame()
        assert not kiosk.composer.last.full and kiosk.composer.last.rects
        part = kiosk.read_pixels()
        np.testing.assert_array_equal(part, drawn_whole(kiosk))
        shots.append(part)
    for a, b in itertools.pairwise(shots):
        changed = np.argwhere((a != b).any(axis=2))
        assert len(changed), "the invitation froze"
        ys, xs = changed[:, 0], changed[:, 1]
        assert invitation.collidepoint(int(xs.min()), int(ys.min()))
        assert invitation.collidepoint(int(xs.max()), int(ys.max()))
    assert kiosk.composer.counts["part"] >= 6


@pytest.mark.parametrize("label", [False, True])
def test_a_letterboxed_fade_is_drawn_in_part_as_if_whole(
    make_kiosk: KioskFactory, clock: FakeClock, label: bool
) -> None:
    """Square pictures on a wide screen: only the picture (and label) blend; every frame of
    fades, and of fades from fades, equals the same instant drawn whole."""
    kiosk = make_kiosk(
        transition_ms=400, fit="contain", label=label, window_size=(480, 240), title="Dice"
    )
    kiosk.set_state("presenting")
    parts = 0
    shapes = [(64, 64), (48, 96), (96, 32), (64, 64), (40, 80)]  # what shows changes shape
    for i, colour in enumerate((RED, BLUE, GREEN, RED, BLUE)):
        image = solid(colour, *shapes[i])
        kiosk.present(image, LabelInfo(faces=(i + 1, 2), text=f"throw {i} " + "x" * (9 * i)))
        assert kiosk.wait_painted(10)
        for _ in range(8 if i < 3 else 30):  # 0.13 s: the next present lands mid-fade
            kiosk.frame()
            drawn = kiosk.composer.last
            if drawn.rects:
                parts += 1
                assert sum(r.w * r.h for r in drawn.rects) < 480 * 240
            part = kiosk.read_pixels()
            np.testing.assert_array_equal(part, drawn_whole(kiosk))
            assert tuple(part[5, 5]) == (0, 0, 0)  # the letterbox stays background
            clock.advance(FRAME_S)
    assert tuple(kiosk.read_pixels()[120, 240]) == BLUE
    assert parts >= 10  # wide and tall pictures together cover most of it: drawn whole


@pytest.mark.parametrize("rotation", [0, 90, 270])
def test_rolling_dots_keep_moving_on_a_turned_screen(
    make_kiosk: KioskFactory, clock: FakeClock, rotation: int
) -> None:
    kiosk = make_kiosk(transition_ms=0, fit="cover", label=False, rotation=rotation)
    kiosk.set_artwork(solid(RED))
    kiosk.set_state("rolling")
    kiosk.set_overlay("the printer is out of paper")  # a still cue beside a moving one
    assert kiosk.wait_ready()
    kiosk.frame()
    previous = kiosk.read_pixels()
    for _ in range(8):
        clock.advance(0.1)  # a 1.2 s breath per dot
        kiosk.frame()
        part = kiosk.read_pixels()
        assert kiosk.composer.last.rects and (part != previous).any(), "the dots froze"
        np.testing.assert_array_equal(part, drawn_whole(kiosk))
        previous = part


def test_a_new_picture_goes_up_on_the_next_frame(
    make_kiosk: KioskFactory, clock: FakeClock
) -> None:
    kiosk = still_red(make_kiosk, clock)
    for colour in (BLUE, GREEN, RED):
        kiosk.present(solid(colour), None)
        assert kiosk.wait_painted(10)
        kiosk.frame()  # collects the slide and shows it
        assert kiosk.composer.last.full
        assert tuple(kiosk.read_pixels()[120, 160]) == colour
        still_then(kiosk, clock, 2)


def test_an_exposed_window_and_the_refresh_draw_it_whole(
    make_kiosk: KioskFactory, clock: FakeClock
) -> None:
    kiosk = still_red(make_kiosk, clock)
    pygame.event.post(pygame.event.Event(pygame.WINDOWEXPOSED))
    kiosk.poll_input()
    kiosk.frame()
    assert kiosk.composer.last.full
    still_then(kiosk, clock, 2)
    assert not kiosk.composer.last.full
    clock.advance(kiosk.composer.refresh_s)
    kiosk.frame()
    assert kiosk.composer.last.full


@pytest.mark.parametrize("fit", ["cover", "contain"])
def test_a_fade_from_a_fade_mixes_as_before(
    make_kiosk: KioskFactory, clock: FakeClock, fit: str
) -> None:
    """The reused mix surface (blended only where the pictures are, when letterboxed) gives
    the pixels the old copy-per-present gave."""
    kiosk = make_kiosk(transition_ms=1000, fit=fit, label=True, window_size=(480, 240))
    kiosk.set_state("presenting")
    expected: pygame.Surface | None = None
    shapes = [(64, 64), (96, 32), (32, 96), (64, 64), (80, 40), (64, 64), (40, 80), (64, 64)]
    checked = 0
    for i, colour in enumerate((RED, BLUE, GREEN, RED, BLUE, GREEN, RED, BLUE)):
        if i in (4, 6):  # let the fade end: the next fade runs from a slide, not the mix
            clock.advance(2.0)
            kiosk.frame()
            expected = None
        kiosk.present(solid(colour, *shapes[i]), LabelInfo(faces=(i + 1,), text="x" * 7 * i))
        assert kiosk.wait_painted(10)
        kiosk.frame()  # takes the slide: the fade starts from the mix of the last one
        if expected is not None:
            assert kiosk.picture.old is not None
            np.testing.assert_array_equal(
                pygame.surfarray.array3d(kiosk.picture.old), pygame.surfarray.array3d(expected)
            )
            checked += 1
        clock.advance(0.3)
        kiosk.frame()
        expected = reference_mix(kiosk, clock())
    assert checked == 5


def reference_mix(kiosk: Kiosk, now: float) -> pygame.Surface:
    """The mix the layer will fade from if a present comes now, made the plain way."""
    picture = kiosk.picture
    assert picture.new is not None and picture.old is not None
    mix = picture.old.copy()
    picture.new.set_alpha(round(picture.progress(now) * 255))
    mix.blit(picture.new, (0, 0))
    picture.new.set_alpha(None)
    return mix


@pytest.fixture
def two(walls: list[Wall], clock: FakeClock) -> Iterator[Wall]:  # noqa: F811
    screens = [{"display": 0, "content": "painting"}, {"display": 0, "content": "variation"}]
    yield make_wall(walls, clock, screens, transition_ms=300)


def test_a_walls_windows_change_on_the_same_frame_after_still_frames(
    two: Wall, clock: FakeClock
) -> None:
    two.set_artwork(solid(RED))
    two.set_state("presenting")
    assert two.wait_ready()
    for _ in range(30):  # the artwork fades in, then still frames
        clock.advance(FRAME_S)
        two.frame()
    assert all(w.composer.last == type(w.composer.last)() for w in two.windows)
    two.present(solid(BLUE), None, painting=solid(GREEN))
    for w in two.windows:
        assert w.wait_painted(10)
    seen = []
    for _ in range(30):
        two.frame()
        seen.append([tuple(int(v) for v in p[60, 80]) for p in two.read_pixels()])
        clock.advance(FRAME_S)
    assert seen[0] == [RED, RED]  # both fades start here, at alpha 0
    assert RED not in seen[1], "both windows move on the next frame"
    assert seen[-1] == [GREEN, BLUE]
    moving = [s for s in seen if s != seen[-1]]
    assert all(a != b for a, b in itertools.pairwise(moving))
    assert two.stats()["redraws"]["full"] >= 2 * len(moving)


def test_union_area_counts_overlaps_once() -> None:
    r = pygame.Rect
    assert union_area([]) == 0
    assert union_area([r(0, 0, 10, 10)]) == 100
    assert union_area([r(0, 0, 10, 10), r(5, 5, 10, 10)]) == 175
    assert union_area([r(0, 0, 10, 10), r(20, 0, 10, 10)]) == 200
    assert union_area([r(0, 0, 10, 10), r(2, 2, 2, 2), r(0, 0, 10, 10)]) == 100
    assert union_area([r(0, 0, 4, 10), r(0, 2, 4, 3), r(0, 4, 4, 2)]) == 40


def test_aligned_widens_to_16_pixel_columns_inside_the_screen() -> None:
    r, screen = pygame.Rect, pygame.Rect(0, 0, 1920, 1080)
    assert aligned(r(420, 0, 1080, 1080), screen) == r(416, 0, 1088, 1080)
    assert aligned(r(38, 939, 305, 103), screen) == r(32, 939, 320, 103)
    assert aligned(r(1910, 5, 20, 5), screen) == r(1904, 5, 16, 5)
    assert aligned(r(0, 0, 16, 1), screen) == r(0, 0, 16, 1)
