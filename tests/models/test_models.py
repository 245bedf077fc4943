"""Model folders: inspection, fingerprints, `installation models pull | make-tiny | check`."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from installation.errors import ModelError
from installation.models import commands
from installation.models.folders import (
    inspect_model,
    looks_like_repo_id,
    model_fingerprint,
    pull,
    require_model,
)


def run(*argv: str) -> int:
    """Our `models` command through a real argparse parser (as the CLI registers it)."""
    parser = argparse.ArgumentParser(prog="installation")
    commands.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["models", *argv])
    return int(args.func(args))


def test_check_reports_a_complete_folder(
    tiny_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("check", str(tiny_model)) == 0
    out = capsys.readouterr().out
    assert "pipeline: StableDiffusionPipeline" in out
    assert "components present: scheduler, text_encoder, tokenizer, unet, vae" in out
    assert "components missing: -" in out
    assert f"fingerprint: {model_fingerprint(tiny_model)}" in out
    assert "status: complete" in out


def test_check_names_what_a_broken_folder_lacks_and_fails(
    tiny_model: Path, copy_model: Callable[[Path], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    broken = copy_model(tiny_model)
    (broken / "unet" / "diffusion_pytorch_model.safetensors").unlink()
    (broken / "scheduler" / "scheduler_config.json").unlink()
    assert run("check", str(broken)) == 1
    out = capsys.readouterr().out
    assert "components missing: scheduler/scheduler_config.json, unet/ weights" in out
    assert "status: INCOMPLETE" in out


def test_check_on_something_that_is_not_a_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("check", str(tmp_path)) == 1
    assert "kind: not a model" in capsys.readouterr().out
    assert run("check", str(tmp_path / "absent")) == 1
    assert "kind: missing" in capsys.readouterr().out


def test_families_are_guessed_from_the_unet_and_pipeline(
    tiny_model: Path, copy_model: Callable[[Path], Path]
) -> None:
    model = copy_model(tiny_model)
    config = model / "unet" / "config.json"
    data = json.loads(config.read_text())
    assert inspect_model(model).family == "tiny (SD1 layout)"
    for width, family in [(768, "SD1"), (1024, "SD2"), (2048, "SDXL")]:
        config.write_text(json.dumps({**data, "cross_attention_dim": width}))
        assert inspect_model(model, fingerprint=False).family == family


def test_the_optional_safety_checker_may_be_absent(
    tiny_model_with_safety: Path, copy_model: Callable[[Path], Path]
) -> None:
    model = copy_model(tiny_model_with_safety)
    assert "safety_checker" in inspect_model(model).present
    (model / "safety_checker" / "model.safetensors").unlink()
    report = inspect_model(model)
    assert report.complete and report.optional_missing == [
        "safety_checker/ weights (no .safetensors or .bin file)"
    ]


def test_the_fingerprint_ignores_mtimes_but_sees_content(
    tiny_model: Path, copy_model: Callable[[Path], Path]
) -> None:
    model = copy_model(tiny_model)
    assert model_fingerprint(model) == model_fingerprint(tiny_model)
    weights = model / "vae" / "diffusion_pytorch_model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF  # the last byte of the last tensor
    weights.write_bytes(bytes(data))
    assert model_fingerprint(model) != model_fingerprint(tiny_model)


def test_repo_ids_are_told_apart_from_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert looks_like_repo_id("stabilityai/sd-turbo")
    assert not looks_like_repo_id("/models/sd-turbo")
    assert not looks_like_repo_id("sd-turbo")
    (tmp_path / "org" / "name").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)  # an existing relative folder is a path, not a repo id
    assert not looks_like_repo_id("org/name")


def test_require_model_explains_each_failure(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no model set"):
        require_model(None)
    with pytest.raises(ModelError, match="models pull org/name --to"):
        require_model(Path("org/name"))
    ckpt = tmp_path / "x.ckpt"
    ckpt.write_bytes(b"0")
    with pytest.raises(ModelError, match="would try to download"):
        require_model(ckpt)


def test_pull_with_hub_offline_is_a_clear_error(tmp_path: Path) -> None:
    # conftest sets HF_HUB_OFFLINE=1 before huggingface_hub is imported
    with pytest.raises(ModelError, match=r"HF_HUB_OFFLINE is set.*copy a model folder"):
        pull("org/model", tmp_path / "m", log=lambda _: None)


def test_pull_against_an_unreachable_hub_fails_fast_with_advice(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "HF_HUB_OFFLINE"}
    env.update(HF_ENDPOINT="http://127.0.0.1:9", HF_HOME=str(tmp_path / "hf"))
    code = (
        "import sys; from installation.cli import main; "
        f"sys.exit(main(['models', 'pull', 'org/model', '--to', {str(tmp_path / 'm')!r}]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert "cannot reach the model hub for 'org/model'" in done.stderr
    assert "copy a model folder onto this machine instead" in done.stderr


def test_make_tiny_writes_a_folder_that_loads(tmp_path: Path) -> None:
    from installation.engines.diffusers_engine import DiffusersEngine
    from installation.engines.engine import EngineSpec

    dest = tmp_path / "tiny-inpaint"
    assert run("make-tiny", str(dest), "--inpaint", "--safety") == 0
    report = inspect_model(dest)
    assert report.complete and report.pipeline_class == "StableDiffusionInpaintPipeline"
    assert "safety_checker" in report.present
    engine = DiffusersEngine(EngineSpec(model=dest), warm_up=False)
    assert engine.describe()["model"] == "tiny-inpaint"


def test_make_tiny_refuses_a_folder_in_use(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    assert run("make-tiny", str(tmp_path)) == 1
    assert "exists and is not empty" in capsys.readouterr().err
