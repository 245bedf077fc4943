"""archive list/pick/export/sheet on a real Archive: selection and export keep provenance."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from installation.core.variations import Variation
from installation.curate import archive_cmd, preview
from installation.engines.images import load_rgb
from installation.errors import CurateError
from installation.show.schema import Show
from installation.storage.archive import Archive
from installation.storage.png import read_png_text

DAY1 = datetime(2026, 5, 1, 14, 30, 5).timestamp()  # local time, as the archive names days
DAY2 = datetime(2026, 5, 2, 11, 0, 0).timestamp()
DIFFUSERS = {"engine": "diffusers", "model": "sd-turbo", "fingerprint": "fp-1", "torch": "2.13"}


def archived(show: Show, throws: list[tuple[tuple[int, int], float]], info: dict) -> None:
    """Archive the kiosk's picture for each (faces, time), as the app would."""
    when = [0.0]
    archive = Archive(
        show.storage_dir / "archive", show_name="small", max_files=100, max_mb=100,
        wall=lambda: when[0],
    )  # fmt: skip
    for faces, t in throws:
        when[0] = t
        result, _ = preview.preview(show, faces)
        assert archive.save(result.image, result.variation, engine=info["engine"], describe=info)
        assert archive.flush()
    archive.stop()


@pytest.fixture
def show(small_show: Callable[..., Show]) -> Show:
    s = small_show()
    archived(s, [((3, 2), DAY1), ((1, 1), DAY1 + 60), ((3, 2), DAY2)], {"engine": "fallback"})
    return s


def test_list_filters_by_day_and_faces(show: Show) -> None:
    assert [e.key for e in archive_cmd.entries(show)] == ["3-2", "1-1", "3-2"]
    assert [e.key for e in archive_cmd.entries(show, day="2026-05-01")] == ["3-2", "1-1"]
    assert len(archive_cmd.entries(show, faces="3,2")) == 2
    lines = archive_cmd.list_lines(archive_cmd.entries(show, day="2026-05-01"))
    assert lines[1].split()[:4] == ["2", "2026-05-01", "14:31:05", "1-1"]
    with pytest.raises(CurateError, match="YYYY-MM-DD"):
        archive_cmd.entries(show, day="1 May")
    with pytest.raises(CurateError, match="faces run from 1 to 3"):
        archive_cmd.entries(show, faces="4,4")


def test_pick_copies_with_a_provenance_sidecar(show: Show, tmp_path: Path) -> None:
    found = archive_cmd.entries(show, day="2026-05-01")
    [copied] = archive_cmd.pick(archive_cmd.select(found, ["1"]), tmp_path / "sel")
    record = json.loads(copied.with_suffix(".json").read_text("utf-8"))
    v = preview.kiosk_variation(show, (3, 2))
    assert record["throw"] == [3, 2] and record["seed"] == v.seed
    assert record["prompt"] == "a die, blue, at noon"
    assert record["parameters"] == {
        "steps": 4, "strength": 0.7, "guidance": 1.0, "size": "64x64", "painting": 0,
    }  # fmt: skip
    assert record["engine"] == "fallback" and record["shown_at"].startswith("2026-05-01T14:30:05")
    assert record["picked_at"] and Path(record["archive_file"]) == found[0].path
    assert read_png_text(copied)["seed"] == str(v.seed)  # the PNG keeps its own record
    assert np.array_equal(load_rgb(copied), load_rgb(found[0].path))


def test_pick_names_the_valid_range(show: Show) -> None:
    with pytest.raises(CurateError, match=r"1\.\.3"):
        archive_cmd.select(archive_cmd.entries(show), ["7"])


def test_export_with_the_fallback_keeps_the_original_and_says_why(
    show: Show, tmp_path: Path
) -> None:
    sel = tmp_path / "sel"
    archive_cmd.pick(archive_cmd.entries(show)[:1], sel)
    renderer = preview.ShowRenderer(show, use_cache=False)
    [how] = archive_cmd.export(sel, (128, 128), renderer, tmp_path / "out")
    assert how["method"] == "original" and "fallback" in how["note"]
    assert (
        how["size"] == "64x64" and how["made"]["seed"] == preview.kiosk_variation(show, (3, 2)).seed
    )
    out = Path(how["file"])
    assert np.array_equal(load_rgb(out), load_rgb(sel / archive_cmd.entries(show)[0].path.name))
    assert json.loads(read_png_text(out)["provenance"])["method"] == "original"
    assert json.loads(out.with_suffix(".json").read_text("utf-8"))["note"] == how["note"]


class FakeDiffusers:
    """Stands in for the diffusers engine: records what it was asked to render."""

    name = "diffusers"

    def __init__(self, fingerprint: str = "fp-1") -> None:
        self.fingerprint = fingerprint
        self.asked: list[Variation] = []

    def describe(self) -> dict[str, str]:
        return {**DIFFUSERS, "fingerprint": self.fingerprint}

    def render(self, v: Variation) -> np.ndarray:
        self.asked.append(v)
        return np.full((v.params.height, v.params.width, 3), v.seed % 251, np.uint8)


def test_export_rerenders_larger_with_the_same_seed(
    small_show: Callable[..., Show], tmp_path: Path
) -> None:
    show = small_show()
    archived(show, [((2, 3), DAY1)], DIFFUSERS)
    sel = tmp_path / "sel"
    archive_cmd.pick(archive_cmd.entries(show), sel)
    engine = FakeDiffusers()
    renderer = preview.ShowRenderer(show, use_cache=False, engine=engine)
    [how] = archive_cmd.export(sel, (256, 192), renderer, tmp_path / "out")
    [asked] = engine.asked
    v = preview.kiosk_variation(show, (2, 3))
    assert (asked.seed, asked.prompt, asked.params.strength) == (v.seed, v.prompt, 0.7)
    assert (asked.params.width, asked.params.height) == (256, 192)
    assert how["method"] == "re-rendered" and how["size"] == "256x192"
    assert how["engine_info"]["fingerprint"] == "fp-1" and how["made"]["fingerprint"] == "fp-1"
    assert load_rgb(Path(how["file"])).shape == (192, 256, 3)


def test_export_after_a_model_change_keeps_the_original(
    small_show: Callable[..., Show], tmp_path: Path
) -> None:
    show = small_show()
    archived(show, [((2, 3), DAY1)], DIFFUSERS)
    sel = tmp_path / "sel"
    archive_cmd.pick(archive_cmd.entries(show), sel)
    engine = FakeDiffusers("fp-2")
    renderer = preview.ShowRenderer(show, use_cache=False, engine=engine)
    [how] = archive_cmd.export(sel, (256, 256), renderer, tmp_path / "out")
    assert engine.asked == [] and how["method"] == "original"
    assert "was fp-1, now fp-2" in how["note"]


@pytest.mark.parametrize("text", ["big", "100x100", "64x8192", "0x0", "2048*2048"])
def test_bad_sizes(text: str) -> None:
    with pytest.raises(CurateError, match="multiple of 8"):
        archive_cmd.parse_size(text)


def test_day_sheet(show: Show, tmp_path: Path) -> None:
    out = tmp_path / "day.png"
    assert archive_cmd.day_sheet(show, "2026-05-01", out) == "all 2 shown variations, in order"
    assert archive_cmd.day_sheet(show, "2026-05-01", out, sample=1).startswith("sample of 1 of 2")
    with pytest.raises(CurateError, match="nothing for 2026-06-01"):
        archive_cmd.day_sheet(show, "2026-06-01", out)


def test_cli_list_pick_export(
    show: Show,
    run_cli: Callable[[list[str]], int],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = str(show.folder)
    assert run_cli(["archive", folder, "list", "--faces", "3,2"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2
    assert run_cli(["archive", folder, "pick", "2", "3"]) == 0
    assert len(list((show.storage_dir / "selection").glob("*.json"))) == 2
    assert run_cli(["archive", folder, "export", "--size", "128x128"]) == 0
    assert capsys.readouterr().out.count(": original (") == 2
    assert run_cli(["archive", folder, "pick", "9"]) == 2
    assert "not in the list" in capsys.readouterr().err
    assert (
        run_cli(["archive", folder, "sheet", "--day", "2026-05-02", "-o", str(tmp_path / "d.png")])
        == 0
    )
