"""preview renders what the kiosk presents, pixel for pixel, and rejects bad faces clearly."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from installation.app import App, RunOptions
from installation.app import arrivals as app_module
from installation.core import events as ev
from installation.core.dice import Throw
from installation.curate import preview
from installation.display.fake import FakeKiosk
from installation.engine_spec import spec_from_show
from installation.engines.images import load_rgb
from installation.errors import CurateError
from installation.show.schema import Show
from installation.storage.png import read_png_text
from installation.worker.client import WorkerClient


def kiosk_image(show: Show, faces: tuple[int, ...]) -> np.ndarray:
    """What the app presents for this throw, through the real worker process."""
    kiosk = FakeKiosk(show.display)
    worker = WorkerClient(spec_from_show(show), hang_timeout_s=30)
    app = App(show, RunOptions(), kiosk=kiosk, worker=worker)
    app.start()
    deadline = time.monotonic() + 30
    try:
        while not worker.ready:  # a throw before the child is up gets the parent's fallback
            assert time.monotonic() < deadline, "the worker did not start"
            app.step()
        app.inbox.put(ev.ThrowCommitted(Throw(faces)))
        while not kiosk.presents:
            assert time.monotonic() < deadline, "the app presented nothing"
            app.step()
    finally:
        app.stop()
    assert worker.renders == 1, "the picture must come from the worker's engine, not a fallback"
    return kiosk.presents[0][0]


def test_preview_matches_what_the_kiosk_presents(
    small_show: Callable[..., Show], run_cli: Callable[[list[str]], int], tmp_path: Path
) -> None:
    show = small_show()
    out = tmp_path / "p.png"
    assert run_cli(["preview", str(show.folder), "--dice", "3,2", "-o", str(out)]) == 0
    shown = kiosk_image(show, (3, 2))
    previewed = load_rgb(out)
    assert previewed.shape == (64, 64, 3)
    assert np.array_equal(previewed, shown)
    meta = read_png_text(out)
    v = preview.kiosk_variation(show, (3, 2))
    assert meta["faces"] == "3-2" and meta["seed"] == str(v.seed)
    assert meta["prompt"] == "a die, blue, at noon"


def test_blocked_seed_is_rerolled_like_the_app(small_show: Callable[..., Show]) -> None:
    first = preview.kiosk_variation(small_show(), (1, 3))
    show = small_show(f"[safety]\nblocked_seeds = [{first.seed}]\n")
    result, _ = preview.preview(show, (1, 3))
    assert result.variation.reroll == 1 and result.variation.seed != first.seed
    assert np.array_equal(result.image, kiosk_image(show, (1, 3)))


def test_reroll_limit_is_the_apps() -> None:
    assert preview.MAX_REROLLS is app_module.MAX_REROLLS  # one limit, from the core


def test_second_preview_comes_from_the_cache(small_show: Callable[..., Show]) -> None:
    show = small_show()
    first, _ = preview.preview(show, (2, 2))
    again, info = preview.preview(show, (2, 2))
    assert not first.cached and again.cached
    assert np.array_equal(first.image, again.image)
    assert info["engine"] == "fallback"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("3", "has 1 faces"),
        ("3,4", "die 2 shows 4; faces run from 1 to 3"),
        ("a,b", "whole numbers"),
        ("", "has 0 faces"),
        ("1,2,3", "the show has 2 dice"),
    ],
)
def test_bad_faces_name_the_problem(text: str, words: str) -> None:
    with pytest.raises(CurateError) as info:
        preview.parse_faces(text, 2, 3)
    assert words in str(info.value)
    assert "e.g." in str(info.value)


def test_faces_accept_commas_dashes_and_spaces() -> None:
    for text in ("3,1", "3-1", "3 1", " 3, 1 "):
        assert preview.parse_faces(text, 2, 3) == (3, 1)


def test_cli_bad_faces_exit_2_with_message(
    small_show: Callable[..., Show],
    run_cli: Callable[[list[str]], int],
    capsys: pytest.CaptureFixture[str],
) -> None:
    show = small_show()
    assert run_cli(["preview", str(show.folder), "--dice", "9,1"]) == 2
    assert "die 1 shows 9" in capsys.readouterr().err


def test_fresh_mode_previews_the_next_throw(small_show: Callable[..., Show]) -> None:
    show = small_show().model_copy()
    fresh = small_show().variations.model_copy(update={"seed_mode": "fresh"})
    show = show.model_copy(update={"variations": fresh})
    first = preview.kiosk_variation(show, (1, 1))
    assert first.number == 1 and first.repeat == 1
    fifth = preview.kiosk_variation(show, (1, 1), repeat=5)
    assert fifth.repeat == 5 and fifth.seed != first.seed
    from installation.storage.state import StateStore

    StateStore(show.storage_dir / "state.json").save_counts(7, {"1-1": 4})
    assert preview.kiosk_variation(show, (1, 1)) == dataclasses.replace(fifth, number=8)
