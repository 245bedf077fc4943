"""Shared pieces: result records, percentiles, the machine's description, temp shows."""

from __future__ import annotations

import math
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Row:
    """One figure. `goal` with `better` ('lower'/'higher') makes a met/missed verdict."""

    name: str
    value: float
    unit: str
    goal: float | None = None
    better: str = "lower"
    note: str = ""

    @property
    def met(self) -> bool | None:
        if self.goal is None or not math.isfinite(self.value):
            return None
        return self.value <= self.goal if self.better == "lower" else self.value >= self.goal


@dataclass
class Result:
    """One benchmark's figures, with what they include and exclude."""

    key: str
    title: str
    measures: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    samples: int = 0
    seconds: float = 0.0

    def add(self, name: str, value: float, unit: str, **kw: Any) -> None:
        self.rows.append(Row(name, float(value), unit, **kw))

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for row, src in zip(d["rows"], self.rows, strict=True):
            row["met"] = src.met
        return d


def pct(values: Sequence[float], q: float) -> float:
    """The q-th percentile (linear interpolation); NaN for no values."""
    if not values:
        return float("nan")
    return float(np.percentile(np.asarray(values, dtype=float), q))


def spread(result: Result, label: str, values_ms: Sequence[float], **goal: Any) -> None:
    """Add p50, p95 and max rows for a list of milliseconds; `goal` applies to p95."""
    result.add(f"{label} p50", pct(values_ms, 50), "ms")
    result.add(f"{label} p95", pct(values_ms, 95), "ms", **goal)
    result.add(f"{label} max", max(values_ms) if values_ms else float("nan"), "ms")


def ms_since(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000.0


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (platform.processor() is often empty)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def git_revision() -> str:
    try:
        rev = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=5, check=False,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return rev + (" (with uncommitted changes)" if dirty else "")


def machine() -> dict[str, str]:
    """What the numbers were measured on."""
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "cpu": cpu_model(),
        "cores": f"{os.cpu_count()} logical, {affinity} usable",
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "torch": _version("torch"),
        "diffusers": _version("diffusers"),
        "transformers": _version("transformers"),
        "pygame-ce": _version("pygame-ce"),
        "python-osc": _version("python-osc"),
        "SDL video driver": os.environ.get("SDL_VIDEODRIVER", "(SDL's choice)"),
        "load average at start": load_average(),
        "git": git_revision(),
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
    }


def headless() -> None:
    """SDL's dummy drivers and offline Hugging Face, before pygame/hub are imported."""
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")


def write_painting(path: Path, size: int = 512) -> Path:
    """A deterministic 'painting' with structure (gradients and stripes), as a PNG."""
    from PIL import Image

    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    rgb = np.stack([x, y, 0.5 + 0.5 * np.sin(12 * x + 7 * y)], axis=-1)
    Image.fromarray((rgb * 255).astype(np.uint8)).save(path)
    return path


def tiny_model(folder: Path) -> Path:
    """The tiny random diffusers pipeline, built once per run into `folder`."""
    from installation.models.tiny import make_tiny_pipeline

    dest = folder / "tiny-sd"
    if not (dest / "model_index.json").is_file():
        make_tiny_pipeline(dest)
    return dest


def wait_until(step: Callable[[], None], done: Callable[[], bool], timeout_s: float) -> bool:
    """Call `step` until `done()`; False on timeout (benchmarks report it, never hang)."""
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            return False
        step()
    return True


def python() -> str:
    return sys.executable
