"""The Wall: several screens in one process, read back from SDL's dummy driver.

Under the dummy driver every window is a real pygame.Window with its own surface. Display
selection uses a fake display list: no X server here has two fullscreen-able outputs
(Xvfb has a single RandR output; see tests/display/test_wall_x11.py for placement).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
import pygame
import pytest

from installation.display.label import LabelInfo
from installation.display.slides import SlideJob, render_slide
from installation.display.wall import Wall
from installation.errors import DisplayError
from installation.show.schema import DisplaySection
from installation.show.schema_screens import ScreenEntry
from tests.display.kiosk_helpers import BLUE, GREEN, RED, FakeClock, solid

YELLOW, WHITE = (255, 255, 0), (255, 255, 255)


@pytest.fixture
def walls() -> Iterator[list[Wall]]:
    opened: list[Wall] = []
    yield opened
    for wall in opened:
        wall.close()


def make_wall(
    walls: list[Wall], clock: FakeClock, screens: list[dict[str, Any]], **display: Any
) -> Wall:
    kw = display.pop("_kw", {})
    display.setdefault("fullscreen", False)
    display.setdefault("window_size", (160, 120))
    display.setdefault("transition_ms", 0)
    display.setdefault("label", False)
    display.setdefault("fit", "cover")
    entries = [ScreenEntry(**s) for s in screens]
    wall = Wall(DisplaySection(**display), entries, clock=clock, **kw)
    wall.open()
    walls.append(wall)
    return wall


THREE = [  # the painting, the newest variation and the one before, side by side
    {"display": 0, "content": "painting"},
    {"display": 0, "content": "variation"},
    {"display": 0, "content": "previous"},
]


def centres(wall: Wall) -> list[tuple[int, ...]]:
    out = []
    for pixels in wall.read_pixels():
        h, w = pixels.shape[:2]
        out.append(tuple(int(v) for v in pixels[h // 2, w // 2]))
    return out


def show(wall: Wall) -> list[tuple[int, ...]]:
    assert wall.wait_ready()
    wall.frame()
    return centres(wall)


def test_each_screen_shows_its_content_and_all_change_together(
    walls: list[Wall], clock: FakeClock
) -> None:
    wall = make_wall(walls, clock, THREE)
    wall.set_artwork(solid(WHITE))
    assert show(wall) == [WHITE, WHITE, WHITE]  # attract: the painting everywhere
    wall.set_state("presenting")
    wall.present(solid(RED), None, solid(YELLOW))
    assert show(wall) == [YELLOW, RED, YELLOW]  # no variation before: the painting
    wall.present(solid(GREEN), None, solid(BLUE))
    assert show(wall) == [BLUE, GREEN, RED]


def test_no_screen_takes_up_a_present_before_every_screen_has_painted_it(
    walls: list[Wall], clock: FakeClock
) -> None:
    wall = make_wall(
        walls,
        clock,
        [{"display": 0, "content": "painting"}, {"display": 0, "content": "variation"}],
    )
    wall.set_artwork(solid(WHITE))
    assert show(wall) == [WHITE, WHITE]
    slow = wall.windows[1]
    release = threading.Event()

    def held(job: SlideJob) -> pygame.Surface:
        if job.kind in ("present", "prepare"):  # the painting's slide, asked either way
            assert release.wait(10)
        return render_slide(job)

    slow.desk.close()
    slow.desk.start(lambda: None, render=held)  # the variation's screen paints slowly
    wall.set_state("presenting")
    clock.advance(1)
    wall.present(solid(RED), None, solid(BLUE))
    fast = wall.windows[0]
    assert fast.desk.wait_idle(10)  # its slide is ready
    for _ in range(3):
        wall.frame()
        assert centres(wall) == [WHITE, WHITE]  # held back: the painting waits for the variation
    release.set()
    clock.advance(1)
    assert wall.wait_ready()
    wall.frame()
    assert centres(wall) == [BLUE, RED]
    assert fast.picture.start == slow.picture.start  # both fades began at one instant


def test_slides_painted_ahead_go_up_on_every_screen_on_the_next_frame(
    walls: list[Wall], clock: FakeClock
) -> None:
    wall = make_wall(walls, clock, THREE)
    wall.set_artwork(solid(WHITE))
    painting, green = solid(YELLOW), solid(GREEN)
    wall.set_state("presenting")
    wall.present(solid(RED), None, painting)
    assert show(wall) == [YELLOW, RED, YELLOW]
    wall.prepare(green, None)  # a cached outcome, as app/prepaint.py asks
    assert wall.wait_ready()  # the painters had time for the slides asked ahead
    wall.present(green, None, painting)
    # the painting came again, the previous screen kept RED's slide, the variation GREEN's
    assert wall.stats()["prepared_used"] == 3
    wall.frame()  # no wait for any painter
    assert centres(wall) == [YELLOW, GREEN, RED]


def test_a_screen_with_its_slide_ready_still_waits_for_the_others(
    walls: list[Wall], clock: FakeClock
) -> None:
    wall = make_wall(
        walls,
        clock,
        [{"display": 0, "content": "painting"}, {"display": 0, "content": "variation"}],
    )
    wall.set_artwork(solid(WHITE))
    assert show(wall) == [WHITE, WHITE]
    red = solid(RED)
    wall.prepare(red, None)
    assert wall.wait_ready()
    slow, release = wall.windows[0], threading.Event()

    def held(job: SlideJob) -> pygame.Surface:
        if job.kind in ("present", "prepare"):  # the painting's slide, asked either way
            assert release.wait(10)
        return render_slide(job)

    slow.desk.close()
    slow.desk.start(lambda: None, render=held)  # a new painting: painted slowly
    wall.set_state("presenting")
    wall.present(red, None, solid(BLUE))
    assert wall.stats()["prepared_used"] == 1  # the variation's slide was ready at once
    for _ in range(3):
        wall.frame()
        assert centres(wall) == [WHITE, WHITE]  # held back until the painting is painted
    release.set()
    assert wall.wait_ready()
    wall.frame()
    assert centres(wall) == [BLUE, RED]


def test_screens_keep_their_own_settings(walls: list[Wall], clock: FakeClock) -> None:
    wall = make_wall(
        walls,
        clock,
        [
            {"display": 0, "content": "variation", "fit": "contain", "background": "#0000ff"},
            {"display": 0, "content": "variation", "window": [200, 0, 100, 200]},
        ],
    )
    assert [w.size for w in wall.windows] == [(160, 120), (100, 200)]
    wall.set_state("presenting")
    wall.present(solid(RED, 50, 50), None)
    assert wall.wait_ready()
    wall.frame()
    contained, covered = wall.read_pixels()
    assert tuple(contained[60, 5]) == BLUE  # letterbox in this screen's background
    assert (covered == RED).all()


def test_rotation_90_on_a_1920x1080_output_shows_an_upright_portrait(
    walls: list[Wall], clock: FakeClock
) -> None:
    wall = make_wall(
        walls,
        clock,
        [{"display": 0, "content": "variation", "rotation": 90}],
        window_size=(1920, 1080),
        fit="contain",
        label=True,
    )
    portrait = solid(RED, 90, 160)  # a 9:16 picture: red above, green below
    portrait[80:] = GREEN
    wall.set_state("presenting")
    wall.present(portrait, LabelInfo((3, 5), "Variation 17"))
    assert wall.wait_ready()
    wall.frame()
    (output,) = wall.read_pixels()
    assert output.shape == (1080, 1920, 3)
    upright = np.rot90(output, k=1)  # the screen, turned back as it hangs: 1080 wide
    assert upright.shape == (1920, 1080, 3)
    assert tuple(upright[400, 540]) == RED  # the top of the picture is at the top
    assert tuple(upright[1400, 540]) == GREEN
    label = upright[1700:, :540]  # the label reads in the upright bottom-left corner
    assert (label.max(axis=2) > 200).mean() > 0.01


def test_fullscreen_screens_open_on_their_displays(walls: list[Wall], clock: FakeClock) -> None:
    displays = [(320, 240), (200, 100)]
    wall = make_wall(
        walls,
        clock,
        [{"display": 1, "content": "painting"}, {"display": 0, "content": "variation"}],
        fullscreen=True,
        _kw={"displays": lambda: displays},
    )
    assert [w.desktop for w in wall.windows] == [(200, 100), (320, 240)]
    assert [w.config.display for w in wall.windows] == [1, 0]


def test_a_missing_display_is_an_error_naming_the_screen(clock: FakeClock) -> None:
    entries = [
        ScreenEntry(display=0, content="painting"),
        ScreenEntry(display=2, content="variation"),
    ]
    wall = Wall(DisplaySection(), entries, clock=clock, displays=lambda: [(320, 240), (200, 100)])
    with pytest.raises(DisplayError) as caught:
        wall.open()
    message = str(caught.value)
    assert "screens[1] (variation, display 2)" in message
    assert "2 display(s) found (0..1)" in message
    assert wall.windows == []


def test_stats_and_screenshot_cover_every_screen(
    walls: list[Wall], clock: FakeClock, tmp_path: Any
) -> None:
    wall = make_wall(
        walls,
        clock,
        [{"display": 0, "content": "painting"}, {"display": 0, "content": "variation"}],
    )
    wall.set_state("presenting")
    wall.present(solid(RED), None, solid(BLUE))
    assert wall.wait_ready()
    wall.frame()
    stats = wall.stats()
    assert [s["content"] for s in stats["screens"]] == ["painting", "variation"]  # type: ignore[attr-defined,index]
    from PIL import Image

    shot = np.asarray(Image.open(wall.screenshot(tmp_path / "wall.png")).convert("RGB"))
    assert shot.shape == (120, 320, 3)
    assert tuple(shot[60, 80]) == BLUE and tuple(shot[60, 240]) == RED
