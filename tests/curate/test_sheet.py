"""Contact sheets: one labelled tile per outcome, a stated sample above the limit, progress."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from installation.curate import preview, sheet
from installation.errors import CurateError
from installation.show.schema import Show
from installation.storage.png import read_png_text


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        self.t += 1.0  # every reading is one second later: a steady pace
        return self.t


def test_sheet_has_every_outcome_labelled(small_show: Callable[..., Show], tmp_path: Path) -> None:
    show = small_show()
    out = tmp_path / "sheet.png"
    err = io.StringIO()
    result = sheet.make_sheet(show, out, tile_width=64, progress_stream=err, clock=Clock())
    assert (result.shown, result.total, result.cols, result.rows) == (9, 9, 3, 3)
    layout = json.loads(read_png_text(out)["sheet"])
    tiles = layout["tiles"]
    assert [t["key"] for t in tiles] == [f"{a}-{b}" for a in (1, 2, 3) for b in (1, 2, 3)]
    v = preview.kiosk_variation(show, (3, 2))
    assert tiles[7]["label"] == [f"3-2  #8  seed {v.seed}", "1: blue", "2: at noon"]
    # each tile holds the kiosk's picture, scaled to the tile (64 px: the same size here)
    picture = np.asarray(Image.open(out).convert("RGB"))
    t = tiles[7]
    crop = picture[t["y"] : t["y"] + t["h"], t["x"] : t["x"] + t["w"]]
    assert np.array_equal(crop, preview.preview(show, (3, 2))[0].image)
    # labels were drawn: the strip under the tile is not just background
    strip = picture[t["y"] + t["h"] + 2 : t["y"] + t["h"] + 30, t["x"] : t["x"] + t["w"]]
    assert (strip != sheet.BACKGROUND).any()
    assert "all 9 outcomes" in read_png_text(out)["header"]
    assert err.getvalue().splitlines()[-1].startswith("sheet [########################] 9/9 100%")


def test_sheet_fills_the_cache_so_the_wall_is_instant(
    small_show: Callable[..., Show], tmp_path: Path
) -> None:
    show = small_show()
    first = sheet.make_sheet(show, tmp_path / "a.png", progress_stream=io.StringIO())
    again = sheet.make_sheet(show, tmp_path / "b.png", progress_stream=io.StringIO())
    assert (first.rendered, again.rendered) == (9, 0)
    assert preview.preview(show, (1, 1))[0].cached


def test_above_the_limit_a_stated_repeatable_sample(
    small_show: Callable[..., Show], tmp_path: Path
) -> None:
    show = small_show()
    out = tmp_path / "s.png"
    result = sheet.make_sheet(show, out, sample=4, progress_stream=io.StringIO())
    assert (result.shown, result.total, result.cols, result.rows) == (4, 9, 2, 2)
    assert "sample of 4 of 9 outcomes" in read_png_text(out)["header"]
    picked, total = sheet.choose_outcomes(2, 3, 4, "s1")
    assert total == 9 and picked == sheet.choose_outcomes(2, 3, 4, "s1")[0]
    assert picked == sorted(picked) and len(set(picked)) == 4


def test_sampling_never_lists_huge_outcome_spaces() -> None:
    picked, total = sheet.choose_outcomes(8, 20, 216, "x")
    assert total == 20**8 and len(picked) == 216
    assert all(len(f) == 8 and all(1 <= x <= 20 for x in f) for f in picked)


def test_faces_at_inverts_the_outcome_order() -> None:
    from installation.core.dice import all_outcomes

    assert [sheet.faces_at(i, 3, 4) for i in range(64)] == list(all_outcomes(3, 4))


@pytest.mark.parametrize(("n", "grid"), [(1, (1, 1)), (9, (3, 3)), (10, (4, 3)), (216, (15, 15))])
def test_grid(n: int, grid: tuple[int, int]) -> None:
    assert sheet.grid(n) == grid


def test_sample_must_be_positive() -> None:
    with pytest.raises(CurateError, match="--sample must be 1 or more"):
        sheet.choose_outcomes(2, 3, 0)


def test_progress_eta_and_plain_lines() -> None:
    err, now = io.StringIO(), [100.0]
    p = sheet.ProgressBar(4, err, what="sheet", clock=lambda: now[0])
    now[0] = 102.0
    p.update(1)  # 2 s for the first: 3 to go at 2 s each
    assert err.getvalue().startswith("sheet [")
    assert err.getvalue().strip().endswith("2.00 s each  ETA 00:06")
    p.update(1)
    assert len(err.getvalue().splitlines()) == 1  # no new tenth, no new line


def test_a_failing_outcome_becomes_a_labelled_gap(
    small_show: Callable[..., Show], tmp_path: Path
) -> None:
    show = small_show()

    class Broken:
        name = "broken"

        def describe(self) -> dict[str, str]:
            return {"engine": "broken"}

        def render(self, v: object) -> np.ndarray:
            raise RuntimeError("model exploded")

    renderer = preview.ShowRenderer(show, use_cache=False, engine=Broken())
    out = tmp_path / "f.png"
    result = sheet.make_sheet(show, out, renderer=renderer, progress_stream=io.StringIO())
    assert result.failed == 9
    tile = json.loads(read_png_text(out)["sheet"])["tiles"][0]
    assert tile["label"][-1] == "not shown: model exploded"


def test_cli_sheet(
    small_show: Callable[..., Show],
    run_cli: Callable[[list[str]], int],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    show = small_show()
    out = tmp_path / "cli.png"
    assert run_cli(["sheet", str(show.folder), "-o", str(out), "--tile", "48"]) == 0
    assert "all 9 outcomes, 3x3 tiles" in capsys.readouterr().out
    assert Image.open(out).size[0] == sheet.PAD + 3 * (48 + sheet.PAD)


def test_a_page_too_big_for_memory_is_refused_before_rendering() -> None:
    with pytest.raises(CurateError, match="at most 64 Mpx: lower --sample or --tile"):
        sheet.check_size(216, 2048, 1.0)  # 864 Mpx of pictures, 2.6 GB as RGB
    sheet.check_size(216, 512, 1.0)  # 54 Mpx: fine


def test_tiles_keep_thumbnails_not_full_pictures(
    small_show: Callable[..., Show], tmp_path: Path
) -> None:
    show = small_show()
    tiles = sheet.render_tiles(show, [(1, 1), (3, 2)], preview.ShowRenderer(show), None, 32)
    full = preview.preview(show, (3, 2))[0].image
    assert [t.image.shape for t in tiles if t.image is not None] == [(32, 32, 3)] * 2
    assert full.shape[1] == 64  # the kiosk's picture, twice the tile's width
