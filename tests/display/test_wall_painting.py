"""A painting screen shows the same painting throw after throw: one slide, painted once,
and no crossfade of the painting into itself (two full-screen blends a frame for the
length of a fade, for nothing: benchmark 9's two-screen frames)."""

from __future__ import annotations

from installation.display.wall import Wall
from tests.display.kiosk_helpers import BLUE, GREEN, RED, FakeClock, solid
from tests.display.test_wall import make_wall, walls  # noqa: F401 - the fixture

DIPTYCH = [{"display": 0, "content": "painting"}, {"display": 0, "content": "variation"}]


def test_the_painting_screen_keeps_one_slide_and_never_fades_into_itself(
    walls: list[Wall],  # noqa: F811 - the fixture imported above
    clock: FakeClock,
) -> None:
    wall = make_wall(walls, clock, DIPTYCH, transition_ms=500)
    painting_screen, variation_screen = wall.windows
    painting = solid(GREEN)
    slides = []
    for n, colour in enumerate((RED, BLUE, RED, BLUE)):
        wall.present(solid(colour), None, painting)
        assert wall.wait_ready()
        wall.frame()
        assert variation_screen.picture.old is not None  # the variation fades in
        if n:  # the first throw fades from the attract picture; later ones change nothing
            assert painting_screen.picture.old is None
        slides.append(painting_screen.picture.new)
        clock.advance(1.0)
        wall.frame()
    assert all(s is slides[0] for s in slides)
