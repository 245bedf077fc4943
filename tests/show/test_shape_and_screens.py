"""The painting's shape sets the generation size; [[screens]] tables and their rules."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from installation.core.dice import Throw, all_outcomes
from installation.core.variations import derive_variation
from installation.engines.fallback import FallbackEngine
from installation.errors import ShowIssue
from installation.show.load import load_show
from installation.show.schema import variation_rule
from installation.show.shape import shape_notes


def painting(folder: Path, name: str, size: tuple[int, int]) -> None:
    Image.new("RGB", size, (90, 120, 150)).save(folder / "art" / name)


def test_a_4_3_painting_gives_4_3_variations(write_show: Callable[[str], Path]) -> None:
    folder = write_show('[artwork]\npaintings = ["art/wide.png"]\n')
    painting(folder, "wide.png", (800, 600))
    show = load_show(folder)
    rule = variation_rule(show)
    v = derive_variation(rule, Throw((3, 5)))
    image = FallbackEngine((folder / "art" / "wide.png",)).render(v)
    h, w = image.shape[:2]
    assert (w % 8, h % 8) == (0, 0)
    assert abs(w / h - 4 / 3) < 0.015
    assert abs(w * h - 512 * 512) < 0.05 * 512 * 512  # about the model's native pixel count
    assert shape_notes(show) == []


def test_each_painting_keeps_its_own_shape(write_show: Callable[[str], Path]) -> None:
    folder = write_show('[artwork]\npaintings = ["art/land.png", "art/tall.png"]\n')
    painting(folder, "land.png", (1600, 900))
    painting(folder, "tall.png", (600, 900))
    rule = variation_rule(load_show(folder))
    for faces in all_outcomes(2, 6):
        v = derive_variation(rule, Throw(faces))
        p = v.params
        assert (p.width > p.height) == (v.painting == 0), (v.key, v.painting, p)


def test_a_set_size_of_another_aspect_warns_what_is_cut(write_show: Callable[[str], Path]) -> None:
    folder = write_show(
        '[artwork]\npaintings = ["art/wide.png"]\n[variations]\nwidth = 512\nheight = 512\n'
    )
    painting(folder, "wide.png", (800, 600))
    (note,) = shape_notes(load_show(folder))
    assert "art/wide.png" in note and "800x600" in note
    assert "12% of its width is cut on the left and on the right" in note


def test_screens_are_read_with_their_overrides(write_show: Callable[[str], Path]) -> None:
    show = load_show(
        write_show(
            """\
            [display]
            fit = "cover"
            [[screens]]
            display = 0
            content = "painting"
            [[screens]]
            display = 1
            content = "variation"
            rotation = 90
            label_corner = "top-right"
            window = [960, 0, 540, 960]
            """
        )
    )
    first, second = show.screens
    assert first.overrides() == {}
    assert second.overrides() == {"rotation": 90, "label_corner": "top-right"}
    assert second.window_rect(1, (960, 540)) == (960, 0, 540, 960)
    assert first.window_rect(0, (960, 540)) == (0, 0, 960, 540)


@pytest.mark.parametrize(
    ("entry", "where", "words"),
    [
        ('display = 0\ncontent = "mural"', "screens[1].content", "variation"),
        ('display = 0\ncontent = "painting"', "screens[1].display", "already screens[0]"),
        ('display = 1\ncontent = "painting"\nrotation = 45', "screens[1].rotation", "90"),
        ('display = 1\ncontent = "painting"\nwindow = [0, 0, 10, 10]', "screens[1].window", "64"),
        (
            'display = 1\ncontent = "painting"\nbackground = "red"',
            "screens[1].background",
            "#rrggbb",
        ),
        (
            'display = 1\ncontent = "painting"\nlabel_font = "none.ttf"',
            "screens[1].label_font",
            "not found",
        ),
        ('content = "painting"', "screens[1].display", "required"),
    ],
)
def test_bad_screens_are_errors_naming_the_screen(
    problem: Callable[[str], ShowIssue], entry: str, where: str, words: str
) -> None:
    issue = problem(f'[[screens]]\ndisplay = 0\ncontent = "variation"\n[[screens]]\n{entry}\n')
    assert issue.path == where, issue
    assert words.lower() in str(issue).lower(), issue
