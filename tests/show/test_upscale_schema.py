"""[upscale]: its keys, their bounds, its rules and what `validate` says it will do."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from installation.core.dice import Throw
from installation.core.variations import derive_variation
from installation.engine_spec import spec_from_show
from installation.errors import ShowIssue
from installation.show.changes import diff_shows
from installation.show.load import load_show
from installation.show.path_rules import model_warnings
from installation.show.schema import variation_rule
from installation.show.summary import summarize

MODEL = '[variations]\nmodel = "models/sd"\nwidth = 512\nheight = 384\n'


def with_model(write_show: Callable[[str], Path], text: str) -> Path:
    folder = write_show(MODEL + text)
    (folder / "models" / "sd").mkdir(parents=True)
    (folder / "models" / "sd" / "model_index.json").write_text("{}")
    return folder


def x4_folder(folder: Path, kind: str = "StableDiffusionUpscalePipeline") -> None:
    (folder / "models" / "x4").mkdir(parents=True)
    (folder / "models" / "x4" / "model_index.json").write_text(f'{{"_class_name": "{kind}"}}')


def test_img2img_upscale_sets_the_output_size_and_the_engine_spec(
    write_show: Callable[[str], Path],
) -> None:
    folder = with_model(write_show, '[upscale]\nmode = "img2img"\nscale = 4\nmax_side = 1920\n')
    show = load_show(folder)
    v = derive_variation(variation_rule(show), Throw((3, 5)))
    assert (v.params.width, v.params.height) == (512, 384)
    assert v.params.output_size() == (1920, 1440)  # 4x capped by max_side, multiples of 8
    spec = spec_from_show(show).upscale
    assert spec is not None and spec.mode == "img2img" and spec.model is None
    assert (spec.steps, spec.strength) == (show.variations.steps, 0.3)
    assert "512x384 -> 1920x1440: img2img with the show's model" in summarize(show)


def test_x4_upscale_names_its_folder(write_show: Callable[[str], Path]) -> None:
    folder = with_model(write_show, '[upscale]\nmode = "x4"\nmodel = "models/x4"\n')
    x4_folder(folder)
    show = load_show(folder)
    spec = spec_from_show(show).upscale
    assert spec is not None and spec.model == folder / "models" / "x4"
    assert (spec.steps, spec.guidance) == (20, 9.0)
    assert "512x384 -> 1024x768: x4 upscaler" in summarize(show)


def test_without_upscale_nothing_changes(write_show: Callable[[str], Path]) -> None:
    show = load_show(write_show(""))
    assert spec_from_show(show).upscale is None
    assert variation_rule(show).params.output_size() == (
        variation_rule(show).params.width,
        variation_rule(show).params.height,
    )
    assert "upscale   off: the screen enlarges the picture (smooth)" in summarize(show)


@pytest.mark.parametrize(
    ("table", "path", "words"),
    [
        ('mode = "x4"', "upscale", "mode 'x4' needs model"),
        ('mode = "img2img"\nmodel = "models/x4"', "upscale", "uses the show's own model"),
        ('mode = "2x"', "upscale.mode", "'x4', 'img2img'"),
        ('mode = "img2img"\nscale = 8', "upscale.scale", "4"),
        ('mode = "img2img"\nscale = 1', "upscale.scale", "above 1"),
        ('mode = "img2img"\nmax_side = 100000', "upscale.max_side", "4096"),
        ('mode = "img2img"\ntile = 132', "upscale", "multiple of 8"),
        ('mode = "x4"\nmodel = "models/x4"\ntile = 200', "upscale", "multiple of 32"),
        ('mode = "img2img"\ntile = 128\noverlap = 64', "upscale", "under half the tile"),
        ('mode = "img2img"\nnoise_level = 400', "upscale.noise_level", "350"),
        ('mode = "img2img"\nstrenght = 0.3', "upscale.strenght", "strength"),
        ('mode = "img2img"\nsteps = 2\nstrength = 0.2', "upscale.strength", "at least 5"),
    ],
)
def test_bad_upscale_tables_say_what_is_accepted(
    problem: Callable[[str], ShowIssue], table: str, path: str, words: str
) -> None:
    issue = problem(MODEL.replace('"models/sd"', '"/"') + f"[upscale]\n{table}\n")
    assert issue.path == path and words in issue.message, str(issue)


def test_img2img_needs_the_show_to_have_a_model(problem: Callable[[str], ShowIssue]) -> None:
    issue = problem('[upscale]\nmode = "img2img"\n')
    assert issue.path == "upscale.mode" and "fallback engine" in issue.message


def test_an_x4_folder_of_another_pipeline_is_an_error(
    write_show: Callable[[str], Path],
) -> None:
    from installation.errors import ShowError

    folder = with_model(write_show, '[upscale]\nmode = "x4"\nmodel = "models/x4"\n')
    x4_folder(folder, "StableDiffusionPipeline")
    with pytest.raises(ShowError) as info:
        load_show(folder)
    assert "needs a StableDiffusionUpscalePipeline" in str(info.value)


def test_a_missing_x4_folder_is_a_warning_not_an_error(
    write_show: Callable[[str], Path],
) -> None:
    folder = with_model(write_show, '[upscale]\nmode = "x4"\nmodel = "/mnt/models/x4"\n')
    show = load_show(folder)
    (loc, message), *_ = [w for w in model_warnings(show) if w[0][0] == "upscale"]
    assert loc == ("upscale", "model") and "enlarged with Lanczos" in message


def test_changing_upscale_re_renders_every_picture_with_a_new_worker(
    write_show: Callable[[str], Path],
) -> None:
    folder = with_model(write_show, '[upscale]\nmode = "img2img"\n')
    old = load_show(folder)
    (folder / "show.toml").write_text(MODEL + '[upscale]\nmode = "img2img"\nstrength = 0.4\n')
    change = diff_shows(old, load_show(folder))
    assert change.keys == ("upscale.strength",) and change.needs_new_worker and change.stale is None
    assert not change.needs_restart
