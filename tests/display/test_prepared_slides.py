"""Slides painted ahead: a prepared picture goes up inside present() (no painter round
trip), only for the same pixels, label and look; preparing never delays a present, and
the budget bounds what is kept."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np
import pygame
import pytest

from installation.display import slides
from installation.display.canvas import Canvases
from installation.display.label import LabelInfo
from installation.display.slides import PreparedSlides, SlideJob, render_slide
from tests.display.kiosk_helpers import BLUE, GREEN, RED, KioskFactory, solid

LABEL = LabelInfo((1, 2), "Variation 2")


def centre(kiosk: object) -> tuple[int, ...]:
    pixels = kiosk.read_pixels()  # type: ignore[attr-defined]
    h, w = pixels.shape[:2]
    return tuple(int(v) for v in pixels[h // 2, w // 2])


def test_a_prepared_picture_goes_up_on_the_next_flip_without_painting(
    make_kiosk: KioskFactory,
) -> None:
    kiosk = make_kiosk(transition_ms=0)
    red = solid(RED)
    kiosk.prepare(red, LABEL)
    assert kiosk.wait_ready()
    placed = kiosk.presents_placed
    kiosk.present(red.copy(), LABEL)  # other array, same pixels: still found
    assert kiosk.stats()["prepared_used"] == 1  # taken from stock: no painter trip
    kiosk.frame()  # no wait for the painter: this frame places it and flips it
    assert kiosk.presents_placed == placed + 1
    assert centre(kiosk) == RED


@pytest.mark.parametrize("change", ["pixels", "label", "look"])
def test_a_prepared_slide_is_only_used_for_the_same_pixels_label_and_look(
    make_kiosk: KioskFactory, change: str
) -> None:
    kiosk = make_kiosk(transition_ms=0)
    kiosk.prepare(solid(RED), LABEL)
    assert kiosk.wait_ready()
    image, label = solid(RED), LABEL
    if change == "pixels":
        image = solid(GREEN)
    elif change == "label":
        label = LabelInfo((1, 2), "Variation 3")
    else:
        kiosk.configure(kiosk.config.model_copy(update={"fit": "cover"}), title="", artist="")
    placed = kiosk.presents_placed
    kiosk.present(image, label)
    assert kiosk.presents_placed == placed  # painted for this present, not taken from stock
    assert kiosk.wait_ready()
    kiosk.frame()
    assert kiosk.stats()["prepared_used"] == 0
    assert centre(kiosk) == tuple(int(v) for v in image[0, 0])


class Gate:
    """Holds the painter on the first prepared slide until the test opens it."""

    def __init__(self) -> None:
        self.open, self.started = threading.Event(), threading.Event()
        self.kinds: list[str] = []

    def __call__(self, job: SlideJob, canvases: Canvases | None = None) -> pygame.Surface:
        self.kinds.append(job.kind)
        if job.kind == "prepare" and not self.started.is_set():
            self.started.set()
            assert self.open.wait(10)
        return render_slide(job, canvases)


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gate]:
    g = Gate()
    monkeypatch.setattr(slides, "render_slide", g)
    yield g
    g.open.set()


def test_a_present_is_painted_before_queued_prepared_slides(
    make_kiosk: KioskFactory, gate: Gate
) -> None:
    kiosk = make_kiosk(transition_ms=0)
    assert kiosk.wait_ready()  # the start-up slides
    gate.kinds.clear()
    kiosk.prepare(solid(RED), LABEL)
    assert gate.started.wait(10)  # the painter is busy with the first prepared slide
    for i in range(5):
        kiosk.prepare(solid((i, i, i)), LabelInfo((i,), "other"))
    kiosk.present(solid(BLUE), None)
    gate.open.set()
    assert kiosk.wait_ready()
    assert gate.kinds[:2] == ["prepare", "present"]  # then the other five
    kiosk.frame()
    assert centre(kiosk) == BLUE


def test_the_budget_keeps_the_newest_prepared_slides() -> None:
    style = slides.SlideStyle((100, 100), 32, (0xFF0000, 0xFF00, 0xFF, 0), "contain",
                              (0, 0, 0), False, "", "")  # fmt: skip
    prepared = PreparedSlides(budget_mb=1)  # 1 MiB: 26 slides of 100x100x4 bytes
    images = [np.full((8, 8, 3), i, np.uint8) for i in range(30)]
    jobs = [prepared.want(image, None, style) for image in images]
    assert all(job is not None for job in jobs)
    assert prepared.want(images[-1], None, style) is None  # known: not painted twice
    kept = prepared.images()
    assert len(kept) == 26 and kept[0] is images[4] and kept[-1] is images[-1]
