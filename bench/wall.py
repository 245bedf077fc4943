"""A real App on a real Kiosk (SDL dummy) fed by the dice Emulator over a pseudo-terminal.

The probe wraps pygame.display.flip to timestamp every presented frame, and the kiosk's
present() to know which flip first carries a new variation (and to check its pixels).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import write_painting
from installation.core.throws import DieState
from installation.core.variations import Variation

DISPLAY_SIZE = (1920, 1080)
ROLLING_S = 0.03


def write_show(
    folder: Path,
    *,
    port: str,
    settle_ms: int,
    size: int,
    transition_ms: int = 0,
    model: Path | None = None,
    osc_port: int | None = None,
    cache: bool = True,
) -> Path:
    """A show folder for the benchmarks: two dice on `port`, a 1920x1080 window."""
    folder.mkdir(parents=True, exist_ok=True)
    write_painting(folder / "artwork.png")
    engine = f'engine = "diffusers"\nmodel = "{model}"' if model else 'engine = "fallback"'
    target = (
        f'[[osc.targets]]\nname = "sound"\nhost = "127.0.0.1"\nport = {osc_port}\n'
        if osc_port
        else ""
    )
    faces = ", ".join(f'"face {i}"' for i in range(1, 7))
    no_cache = "" if cache else "[cache]\nmemory_mb = 0\ndisk_mb = 0\n"
    (folder / "show.toml").write_text(
        f"""
[show]
name = "bench"
title = "Benchmark"
artist = "bench"
[artwork]
paintings = ["artwork.png"]
[dice]
count = 2
faces = 6
ports = [{f'"{port}"' if port else ""}]
settle_ms = {settle_ms}
[variations]
prompt = "a painting of a die, {{die1}}, {{die2}}"
variants = [[{faces}], [{faces}]]
strength = 0.5
steps = 4
guidance = 1.0
width = {size}
height = {size}
{engine}
[engine]
device = "cpu"
[display]
fullscreen = false
window_size = [{DISPLAY_SIZE[0]}, {DISPLAY_SIZE[1]}]
fit = "contain"
transition_ms = {transition_ms}
label = true
[osc]
listen = ""
{target}
{no_cache}
""",
        "utf-8",
    )
    return folder


class FlipProbe:
    """Timestamps every flip (or update of rectangles: frames draw only what changed);
    marks the first one after each present() and checks it."""

    def __init__(self, kiosk: Any) -> None:
        import pygame

        self._pygame = pygame
        self._kiosk = kiosk
        self._real_flip: Callable[..., Any] = pygame.display.flip
        # a frame that changed only part of the screen shows it with update(rects)
        self._real_update: Callable[..., Any] = pygame.display.update
        self._real_present: Callable[..., Any] = kiosk.present
        self.flips: list[float] = []
        self.shown: list[float] = []  # time of the first flip carrying each new image
        self.verified = 0  # of those, how many showed the new slide's centre pixel
        # Kiosk.present(): checks and queues the image; the slide is painted by a thread
        self.present_ms: list[float] = []
        self._target: int | None = None  # presents_placed count that carries the new image

    def __enter__(self) -> FlipProbe:
        self._pygame.display.flip = self._flip
        self._pygame.display.update = self._update
        self._kiosk.present = self._present
        return self

    def __exit__(self, *exc: object) -> None:
        self._pygame.display.flip = self._real_flip
        self._pygame.display.update = self._real_update
        del self._kiosk.present  # back to the class's method

    def _centre(self, surface: Any) -> tuple[int, ...]:
        w, h = surface.get_size()
        return tuple(surface.get_at((w // 2, h // 2)))

    def _present(self, *args: Any, **kw: Any) -> Any:
        placed = self._kiosk.presents_placed  # a pre-painted slide is placed inside present()
        t0 = time.perf_counter()
        out = self._real_present(*args, **kw)
        self.present_ms.append((time.perf_counter() - t0) * 1000)
        self._target = placed + 1
        return out

    def _flip(self, *args: Any) -> Any:
        return self._shows(self._real_flip(*args))

    def _update(self, *args: Any) -> Any:
        return self._shows(self._real_update(*args))

    def _shows(self, out: Any) -> Any:
        """After a flip or an update of rectangles: is the new picture on the screen now?"""
        now = time.perf_counter()
        self.flips.append(now)
        if self._target is not None and self._kiosk.presents_placed >= self._target:
            self._target = None  # this flip is the first to carry the painted slide
            self.shown.append(now)
            slide = getattr(self._kiosk, "_last", None)
            screen = self._pygame.display.get_surface()
            if slide is not None and self._centre(screen) == self._centre(slide):
                self.verified += 1
        return out


def throw_order(n: int, seed: int = 1) -> list[tuple[int, int]]:
    """n throws over the 36 outcomes, shuffled, never the same outcome twice in a row."""
    rng = random.Random(seed)
    outcomes = [(a, b) for a in range(1, 7) for b in range(1, 7)]
    out: list[tuple[int, int]] = []
    while len(out) < n:
        batch = outcomes[:]
        rng.shuffle(batch)
        if out and batch[0] == out[-1]:
            batch.append(batch.pop(0))
        out.extend(batch)
    return out[:n]


@dataclass
class Visitor:
    """Throws the emulated dice from its own thread, one throw after each shown image."""

    emulator: Any
    throws: list[tuple[int, int]]
    pause_s: tuple[float, float] = (0.0, 0.05)
    landed_at: list[float] = field(default_factory=list)
    next_throw: threading.Event = field(default_factory=threading.Event)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        rng = random.Random(2)
        for faces in self.throws:
            if not self.next_throw.wait(30) or self.stop.is_set():
                return
            self.next_throw.clear()
            time.sleep(rng.uniform(*self.pause_s))  # a random phase against the frame clock
            for die in (1, 2):
                self.emulator.set_state(die, DieState.ROLLING)
            time.sleep(ROLLING_S)
            self.emulator.set_state(1, DieState.LANDED, faces[0])
            t0 = time.perf_counter()  # just before the last LANDED line is written
            self.emulator.set_state(2, DieState.LANDED, faces[1])
            self.landed_at.append(t0)


class MemoryWorker:
    """Cache-hit stand-in: answers in the same poll, in the display process, no child."""

    engine_name = "memory"
    ready = True

    def __init__(self) -> None:
        self._asked: list[Variation] = []

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def healthy(self) -> bool:
        return True

    def retry_engine(self) -> bool:
        return False

    def health(self) -> dict[str, Any]:
        return {"alive": True, "state": "ready", "engine": self.engine_name, "queued": 0}

    def request(self, variation: Variation, live: bool = True) -> None:
        self._asked.append(variation)

    def poll(self) -> list[Any]:
        from bench.engines import colour_of
        from installation.worker.replies import Result

        out = []
        for v in self._asked:
            image = np.full((v.params.height, v.params.width, 3), colour_of(v), np.uint8)
            out.append(Result(v, image, "memory", 0.0))
        self._asked.clear()
        return out


def dice_link(app: Any) -> Any:
    from installation.dice.serial import DiceLink

    return next(e for e in app.edges.values() if isinstance(e, DiceLink))
