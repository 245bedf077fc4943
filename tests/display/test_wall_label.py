"""The wall label: pips in the standard layouts, text band, invitation and overlay."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pygame
import pytest

from installation.display.label import (
    PIPS,
    LabelInfo,
    clear_font_cache,
    draw_die,
    label_position,
    printable,
    render_invitation,
    render_label,
    render_note,
    render_overlay,
)


@pytest.fixture(autouse=True)
def fonts() -> Iterator[None]:
    pygame.font.init()
    yield
    clear_font_cache()
    pygame.font.quit()


def dark_blobs(mask: np.ndarray) -> int:
    """Count 4-connected True regions (the pips), with a small flood fill."""
    seen = np.zeros_like(mask)
    count = 0
    for y, x in zip(*np.nonzero(mask), strict=True):
        if seen[y, x]:
            continue
        count += 1
        stack = [(y, x)]
        while stack:
            cy, cx = stack.pop()
            if not (0 <= cy < mask.shape[0] and 0 <= cx < mask.shape[1]):
                continue
            if seen[cy, cx] or not mask[cy, cx]:
                continue
            seen[cy, cx] = True
            stack += [(cy + 1, cx), (cy - 1, cx), (cy, cx + 1), (cy, cx - 1)]
    return count


def bright_low(surface: pygame.Surface) -> int:
    """Bright pixels in the lower third of a surface."""
    pixels = pygame.surfarray.array3d(surface).swapaxes(0, 1)
    return int((pixels[surface.get_height() * 2 // 3 :] > 150).sum())


def die_pixels(face: int, size: int = 90) -> np.ndarray:
    surface = pygame.Surface((size + 20, size + 20))
    surface.fill((255, 255, 255))
    draw_die(surface, pygame.Rect(10, 10, size, size), face)
    return pygame.surfarray.array3d(surface).swapaxes(0, 1)


@pytest.mark.parametrize("face", [1, 2, 3, 4, 5, 6])
def test_die_shows_its_face_as_that_many_pips(face: int) -> None:
    dark = die_pixels(face).max(axis=2) < 100
    assert dark_blobs(dark) == face == len(PIPS[face])


def test_die_pips_are_where_a_die_has_them() -> None:
    dark = die_pixels(1).max(axis=2) < 100
    ys, xs = np.nonzero(dark)
    assert abs(ys.mean() - 55) < 2 and abs(xs.mean() - 55) < 2  # centre of a 90px die at 10


def test_faces_above_six_are_drawn_as_numbers() -> None:
    twelve = die_pixels(12).max(axis=2) < 100
    assert twelve.any()
    assert dark_blobs(twelve) == 2  # the glyphs "1" and "2", not a pip layout


def test_nothing_to_say_means_no_label() -> None:
    assert render_label(None, "", "", (800, 600)) is None


def test_label_grows_with_dice_and_scales_with_the_screen() -> None:
    one = render_label(LabelInfo((3,), "Variation 3"), "", "", (1920, 1080))
    two = render_label(LabelInfo((3, 5), "Variation 3"), "", "", (1920, 1080))
    small = render_label(LabelInfo((3, 5), "Variation 3"), "", "", (960, 540))
    assert one is not None and two is not None and small is not None
    assert two.get_width() > one.get_width()
    assert small.get_height() < two.get_height()


def test_label_shows_the_credit_line_and_fits_the_screen() -> None:
    info = LabelInfo((6, 6), "Variation 36 · seed 4294967295")
    bare = render_label(info, "", "", (1280, 720))
    credited = render_label(info, "The Garden", "A. Painter", (1280, 720))
    assert bare is not None and credited is not None
    assert bare.get_size() == credited.get_size()  # the dice set the height here
    assert bright_low(credited) > bright_low(bare) + 50  # the credit line under the text
    x, y = label_position(credited, (1280, 720))
    assert x > 0 and y + credited.get_height() < 720


def test_long_label_is_clipped_to_the_screen() -> None:
    band = render_label(LabelInfo((1,), "x" * 500), "", "", (640, 480))
    assert band is not None and band.get_width() <= 640


def test_blank_invitation_draws_nothing() -> None:
    assert render_invitation("  ", (800, 600)) is None
    assert render_invitation("Throw the dice", (800, 600)) is not None


def test_overlay_wraps_and_caps_long_errors() -> None:
    text = "\n".join(f"show.toml:{n}: display.fit: 'covr' is not allowed" for n in range(40))
    panel = render_overlay(text, (800, 600), max_lines=5)
    few = render_overlay("one line", (800, 600))
    assert panel.get_width() < 800
    assert few.get_height() < panel.get_height() < 600


@pytest.mark.parametrize("text", ["a\x00b", "\x1b[31mred\t", "x" * 20000, "🎲 ünïcödé 漢字", ""])
def test_any_text_renders_without_raising(text: str) -> None:
    screen = (800, 600)
    band = render_label(LabelInfo((1, 2), text), text, text, screen)
    assert band is not None and band.get_width() <= 800
    invitation = render_invitation(text, screen)
    assert invitation is None or invitation.get_width() <= 800
    assert render_overlay(text, screen).get_height() < 600
    assert render_note(text, screen).get_width() > 0


def test_printable_cuts_and_cleans() -> None:
    assert printable("a\x00b\nc") == "a b\nc"
    assert printable("x" * 10, limit=5) == "xxxx…"


SCREENS = {
    "16:9": (1920, 1080),
    "9:16": (1080, 1920),
    "4:3": (1024, 768),
    "21:9": (2560, 1080),
    "32:9": (3840, 1080),
    "1:1": (1080, 1080),
}


def _slide(size: tuple[int, int], title: str, corner: str, label_size: float) -> np.ndarray:
    from installation.display.label import LabelStyle
    from installation.display.slides import SlideJob, SlideStyle, render_slide

    style = SlideStyle(
        size,
        32,
        (0xFF0000, 0xFF00, 0xFF, 0),
        "contain",
        (40, 40, 40),
        True,
        title,
        "A. Painter",
        LabelStyle(corner, label_size),
    )
    picture = np.full((300, 400, 3), 128, np.uint8)
    info = LabelInfo((6, 6), "Variation 36 · seed 4294967295")
    slide = render_slide(SlideJob("last", "present", picture, info, True, style))
    return np.asarray(pygame.surfarray.array3d(slide).swapaxes(0, 1))


@pytest.mark.parametrize("aspect", list(SCREENS))
@pytest.mark.parametrize(
    ("corner", "label_size"), [("bottom-left", 1.0), ("top-right", 3.0), ("bottom-right", 0.5)]
)
def test_a_long_title_stays_inside_any_screen(aspect: str, corner: str, label_size: float) -> None:
    """The label's pixels (where two renders with different 120-character titles differ)
    lie inside the screen with a margin, on every aspect from 9:16 to 32:9."""
    width, height = SCREENS[aspect]
    one = _slide((width, height), "The Garden of Forking Paths, " * 4 + "I", corner, label_size)
    two = _slide((width, height), "A Different Title Entirely, " * 4 + "IIII", corner, label_size)
    assert len("The Garden of Forking Paths, " * 4 + "I") > 110
    ys, xs = np.nonzero((one != two).any(axis=2))
    assert len(xs) > 200, "the titles must show"
    margin = 0.015 * min(width, height)
    assert xs.min() >= margin and xs.max() < width - margin, (xs.min(), xs.max())
    assert ys.min() >= margin and ys.max() < height - margin, (ys.min(), ys.max())
    in_top = ys.mean() < height / 2
    assert in_top == corner.startswith("top")


def test_title_and_artist_already_in_the_text_are_not_repeated() -> None:
    info = LabelInfo((3,), "The Garden by A. Painter, variation 3")
    bare = render_label(LabelInfo((3,), info.text), "", "", (1280, 720))
    twice = render_label(info, "The Garden", "A. Painter", (1280, 720))
    once = render_label(LabelInfo((3,), "Variation 3"), "The Garden", "A. Painter", (1280, 720))
    assert bare is not None and twice is not None and once is not None
    assert twice.get_size() == bare.get_size()  # no credit line under the text
    assert once.get_height() >= bare.get_height()
    assert bright_low(once) > bright_low(twice) + 50  # the credit line appears when needed


def test_a_label_font_saved_over_in_place_is_read_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The next label reads the file again (a curator replaced it; no restart needed)."""
    from installation.display.label import LabelStyle

    font = tmp_path / "label.ttf"
    good = (Path(pygame.__file__).parent / pygame.font.get_default_font()).read_bytes()
    font.write_bytes(good)
    style = LabelStyle(font=str(font))
    info = LabelInfo((3,), "Variation 3")
    first = render_label(info, "", "", (1280, 720), style)
    assert first is not None and "cannot be loaded" not in caplog.text
    font.write_bytes(b"not a font")  # another size: a new version of the file
    assert render_label(info, "", "", (1280, 720), style) is not None  # the built-in font
    assert "label font" in caplog.text and "cannot be loaded" in caplog.text
    caplog.clear()
    font.write_bytes(good)
    again = render_label(info, "", "", (1280, 720), style)
    assert again is not None and "cannot be loaded" not in caplog.text
    assert pygame.image.tobytes(again, "RGBA") == pygame.image.tobytes(first, "RGBA")


def test_a_file_that_is_no_font_gives_the_built_in_font_not_an_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """pygame opens any file as a font and fails only when it first measures text: a
    painter that raised there would leave every picture off the wall."""
    from installation.display.label import LabelStyle

    font = tmp_path / "broken.ttf"
    font.write_bytes(b"\x00\x01\x00\x00 truncated")
    band = render_label(
        LabelInfo((2,), "Variation 2"), "", "", (1280, 720), LabelStyle(font=str(font))
    )
    plain = render_label(LabelInfo((2,), "Variation 2"), "", "", (1280, 720))
    assert band is not None and plain is not None
    assert pygame.image.tobytes(band, "RGBA") == pygame.image.tobytes(plain, "RGBA")
    assert "broken.ttf cannot be loaded" in caplog.text


def test_every_size_of_a_font_shares_one_read_of_each_version(tmp_path: Path) -> None:
    """One copy of the file's bytes per version (a CJK font is 20 MB), a new one when the
    file is saved over."""
    from installation.display import label
    from installation.display.label import LabelStyle, font_version

    font = tmp_path / "label.ttf"
    font.write_bytes((Path(pygame.__file__).parent / pygame.font.get_default_font()).read_bytes())
    label.clear_font_cache()
    style = LabelStyle(font=str(font))
    before = font_version(str(font))
    assert render_label(LabelInfo((3,), "Variation 3"), "t", "a", (1280, 720), style) is not None
    assert label._loaded_font.cache_info().currsize >= 2
    assert label._font_data.cache_info().misses == 1
    font.write_bytes(font.read_bytes() + b"\0")  # saved over: another version
    assert font_version(str(font)) != before
    assert render_label(LabelInfo((3,), "Variation 3"), "t", "a", (1280, 720), style) is not None
    assert label._font_data.cache_info().misses == 2
