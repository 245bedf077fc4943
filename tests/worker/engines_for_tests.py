"""Engine factories for worker tests, loaded in the child by EngineSpec.factory.

The prompt picks a behaviour, so one child can serve several tests:
'slow' sleeps SLOW_S, 'hang' sleeps forever, 'boom' raises, 'unsafe' raises
UnsafeImage, 'oom' raises an OutOfMemoryError look-alike ('oom-wrapped': inside an
EngineError, as the diffusers engine does), 'crash' exits the process, 'badshape'
returns the wrong size; 'half' writes half a message on the pipe and stops itself
(SIGSTOP), 'vanish' has a helper process stop it and shut its pipe down. Anything else
is a flat colour from the seed.
"""

from __future__ import annotations

import os
import signal
import socket
import struct
import subprocess
import sys
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
            case "half":  # a length header promising 1 MiB, 10 bytes of it, then stopped
                os.write(_pipe_fd(), struct.pack("!i", 1 << 20) + b"\x80" * 10)
                os.kill(os.getpid(), signal.SIGSTOP)
            case "vanish":  # stopped first, then its pipe shut down: EOF from a live child
                subprocess.run(
                    [sys.executable, "-c", VANISH, str(os.getpid()), str(_pipe_fd())],
                    pass_fds=(_pipe_fd(),),
                    check=True,
                    timeout=30,
                )
                time.sleep(30)  # never reached before the parent's kill
        return np.full((p.height, p.width, 3), colour_of(variation), np.uint8)


VANISH = """
import os, signal, socket, sys
os.kill(int(sys.argv[1]), signal.SIGSTOP)
socket.socket(fileno=int(sys.argv[2])).shutdown(socket.SHUT_RDWR)
"""


def _pipe_fd() -> int:
    """The worker's end of its pipe to the parent: the one socket the child has open."""
    found = []
    for name in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{name}").startswith("socket:"):
                found.append(int(name))
        except OSError:
            continue  # the listing's own descriptor
    if len(found) != 1:
        raise RuntimeError(f"expected one socket in the worker, found {found}")
    with socket.socket(fileno=os.dup(found[0])) as s:
        assert s.family == socket.AF_UNIX
    return found[0]


def behaving(spec: EngineSpec) -> BehavingEngine:
    return BehavingEngine()


class LosingUpscaler(BehavingEngine):
    """Describes an upscale pass that did not load; the prompt 'lose' renames the engine as
    engines/upscale.py does when the pass fails mid-run."""

    def describe(self) -> dict[str, str]:
        return {**super().describe(), "upscale": "FAIL: upscale.model /mnt/x4 not found"}

    def render(self, variation: Variation) -> np.ndarray:
        if variation.prompt == "lose":
            self.name = "test, not upscaled"
        return super().render(variation)


def losing_upscaler(spec: EngineSpec) -> BehavingEngine:
    return LosingUpscaler()


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
