"""Engine factories for worker tests, loaded in the child by EngineSpec.factory.

The prompt picks a behaviour, so one child can serve several tests:
'slow' sleeps SLOW_S, 'hang' sleeps forever, 'boom' raises, 'unsafe' raises
UnsafeImage, 'oom' raises an OutOfMemoryError look-alike ('oom-wrapped': inside an
EngineError, as the diffusers engine does), 'crash' exits the process, 'badshape'
returns the wrong size. Anything else is a flat colour from the seed.
"""

from __future__ import annotations

import os
import time

import numpy as np

from installation.core.variations import Variation
from installation.engines.engine import EngineSpec
from installation.errors import EngineError, ModelError, UnsafeImage

SLOW_S = 0.4


class OutOfMemoryError(RuntimeError):
    """Named like torch.cuda.OutOfMemoryError, which the worker detects by class name."""


def colour_of(variation: Variation) -> tuple[int, int, int]:
    s = variation.seed
    return (s % 256, (s >> 8) % 256, (s >> 16) % 256)


class BehavingEngine:
    name = "test"

    def describe(self) -> dict[str, str]:
        return {"engine": self.name, "pid": str(os.getpid())}

    def render(self, variation: Variation) -> np.ndarray:
        p = variation.params
        match variation.prompt:
            case "slow":
                time.sleep(SLOW_S)
            case "hang":
                while True:
                    time.sleep(1)
            case "boom":
                raise RuntimeError("boom: the engine broke")
            case "unsafe":
                raise UnsafeImage("flagged by the safety checker")
            case "oom":
                raise OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
            case "oom-wrapped":  # as the diffusers engine reports it
                try:
                    raise OutOfMemoryError("CUDA out of memory")
                except OutOfMemoryError as e:
                    raise EngineError("GPU out of memory rendering 64x48") from e
            case "crash":
                os._exit(3)
            case "badshape":
                return np.zeros((p.height, p.width), np.uint8)
        return np.full((p.height, p.width, 3), colour_of(variation), np.uint8)


def behaving(spec: EngineSpec) -> BehavingEngine:
    return BehavingEngine()


def broken(spec: EngineSpec) -> BehavingEngine:
    raise FileNotFoundError("model folder /nowhere/model is missing")


def exits(spec: EngineSpec) -> BehavingEngine:
    """A model whose loading kills the process (a segfault in a native library, say)."""
    os._exit(7)


def needs_model(spec: EngineSpec) -> BehavingEngine:
    """Loads only while spec.model is a folder: a model disk that mounts late."""
    if spec.model is None or not spec.model.is_dir():
        raise ModelError(f"model path does not exist: {spec.model}")
    return BehavingEngine()
