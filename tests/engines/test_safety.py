"""The safety checker: flagged images are never returned; a required checker must load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from installation.core.variations import RenderParams, Variation
from installation.engines.engine import EngineSpec
from installation.errors import ModelError, UnsafeImage

pytest.importorskip("torch")
pytest.importorskip("diffusers")

from installation.engines.diffusers_engine import DiffusersEngine
from installation.engines.safety import load_safety_checker

V = Variation(
    faces=(1, 2),
    key="1-2",
    number=2,
    seed=99,
    prompt="a garden",
    negative_prompt="",
    params=RenderParams(strength=0.6, steps=2, guidance=1.0, width=64, height=64),
)


def engine(model: Path, **spec: Any) -> DiffusersEngine:
    return DiffusersEngine(EngineSpec(engine="diffusers", model=model, **spec), warm_up=False)


def test_a_flagged_image_is_never_returned(tiny_model: Path, flagging_checker: Path) -> None:
    eng = engine(tiny_model, safety_checker=flagging_checker, safety_required=True)
    with pytest.raises(UnsafeImage, match="flagged variation 1-2 seed 99"):
        eng.render(V)


def test_an_image_that_passes_is_returned_unchanged(
    tiny_model: Path, passing_checker: Path
) -> None:
    checked = engine(tiny_model, safety_checker=passing_checker).render(V)
    plain = engine(tiny_model).render(V)
    assert np.array_equal(checked, plain)
    assert checked.any()  # not the black image the pipeline's own checker would give


def test_warm_up_tolerates_a_flagging_checker(tiny_model: Path, flagging_checker: Path) -> None:
    spec = EngineSpec(model=tiny_model, safety_checker=flagging_checker)
    assert DiffusersEngine(spec).describe()["safety"] == str(flagging_checker)


def test_a_model_folder_with_its_own_checker_can_serve_as_the_checker(
    tiny_model_with_safety: Path,
) -> None:
    eng = engine(tiny_model_with_safety, safety_checker=tiny_model_with_safety)
    assert eng.render(V).shape == (64, 64, 3)
    assert eng._pipe.safety_checker is None  # the pipeline never blacks out an image itself


def test_required_but_not_configured_refuses_to_start(tiny_model: Path) -> None:
    with pytest.raises(ModelError, match=r"required is true but safety\.checker is not set"):
        engine(tiny_model, safety_required=True)


def test_required_but_missing_folder_refuses_to_start(tiny_model: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="did not load \\(safety checker folder does not exist"):
        engine(tiny_model, safety_checker=tmp_path / "nope", safety_required=True)


def test_required_but_incomplete_names_the_missing_file(tmp_path: Path) -> None:
    (tmp_path / "checker" / "safety_checker").mkdir(parents=True)
    (tmp_path / "checker" / "safety_checker" / "config.json").write_text("{}")
    with pytest.raises(ModelError, match=r"missing: checker/feature_extractor/preprocessor_config"):
        load_safety_checker(tmp_path / "checker", required=True)


def test_required_but_corrupt_weights_refuses_to_start(
    flagging_checker: Path, tmp_path: Path
) -> None:
    import shutil

    broken = Path(shutil.copytree(flagging_checker, tmp_path / "broken"))
    (broken / "safety_checker" / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(ModelError, match="did not load"):
        load_safety_checker(broken, required=True)


def test_a_configured_checker_that_does_not_load_is_never_skipped(tmp_path: Path) -> None:
    # not required, but configured: without it no AI image may be shown
    with pytest.raises(ModelError, match="AI images are not shown without it"):
        load_safety_checker(tmp_path / "nope", required=False)
    assert load_safety_checker(None, required=False) is None


def test_the_worker_shows_the_fallback_when_the_checker_is_broken(
    tiny_model: Path, tmp_path: Path
) -> None:
    from installation.engines.build import build_engine
    from installation.engines.engine import EngineSpec

    spec = EngineSpec(engine="auto", model=tiny_model, safety_checker=tmp_path / "nope")
    assert build_engine(spec).name == "fallback"
