"""Loading a model says what matters: transformers' notice that its image processors fall
back to PIL without torchvision (every load, three lines in the worker's log) is dropped;
the same notice still comes from a plain import, so the test sees the filter work."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("diffusers")
pytest.importorskip("transformers")

NOTICE = "requires torchvision (not installed)"
LOAD = (
    "import sys; from pathlib import Path;"
    "from installation.engines.diffusers_engine import DiffusersEngine;"
    "from installation.engines.engine import EngineSpec;"
    "DiffusersEngine(EngineSpec(engine='diffusers', model=Path(sys.argv[1])), warm_up=False)"
)
PLAIN = "import transformers; transformers.CLIPImageProcessor"


def stderr_of(code: str, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300, env=env
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stderr


def test_the_torchvision_notice_is_not_in_a_load(tiny_model_with_safety: Path) -> None:
    if importlib.util.find_spec("torchvision") is not None:
        pytest.skip("torchvision is installed: transformers has nothing to say")
    assert NOTICE in stderr_of(PLAIN)  # what transformers says on its own
    assert NOTICE not in stderr_of(LOAD, str(tiny_model_with_safety))
