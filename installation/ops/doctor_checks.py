"""The checks `installation doctor` runs (see ops/doctor.py), and what they return.

A check is a small function of a Context returning one Check or a list. This module
holds the Check row, the Context, and the checks of the show, the software and the
machine; the links (dice, OSC, projectors) are in ops/doctor_links.py. Heavy or risky
probes (torch, SDL) are imported lazily or run in a subprocess.
"""

from __future__ import annotations

import contextlib
import grp
import importlib.metadata as md
import json
import os
import pwd
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Level = Literal["PASS", "WARN", "FAIL"]
CORE_PACKAGES = ("pygame-ce", "python-osc", "pyserial", "pydantic", "numpy", "pillow", "watchfiles")
AI_PACKAGES = ("torch", "diffusers", "transformers", "safetensors")
GROUPS = ("video", "render", "input", "dialout")
SERVICE_USER = "installation"
MIN_FREE_MB = 1024
MIN_VRAM_GB = 4.0

FIX_DISPLAY = (
    "SDL_VIDEODRIVER=kmsdrm on a console (user in group video, nothing else on the screen); "
    "x11 or wayland inside a desktop session"
)
FIX_INVISIBLE = (
    "run doctor where and how the kiosk runs: `SDL_VIDEODRIVER=kmsdrm installation doctor "
    "SHOW` on the console (as the unit sets it), or inside the desktop session; " + FIX_DISPLAY
)
FIX_CLOCK = "enable time sync: sudo timedatectl set-ntp true (or install chrony)"
FIX_AI = "pip install '.[ai]' (see the README for a CPU-only torch)"
FIX_CUDA = "install the NVIDIA driver and a CUDA build of torch; `nvidia-smi` must work"


@dataclass(frozen=True)
class Check:
    name: str
    level: Level
    detail: str
    fix: str = ""


def ok(name: str, detail: str) -> Check:
    return Check(name, "PASS", detail)


def warn(name: str, detail: str, fix: str) -> Check:
    return Check(name, "WARN", detail, fix)


def fail(name: str, detail: str, fix: str) -> Check:
    return Check(name, "FAIL", detail, fix)


@dataclass
class Context:
    """What the checks look at. `show` is None when the show did not load."""

    folder: Path
    show: Any = None
    show_problem: str = ""
    hello_timeout_s: float = 2.0
    probe_timeout_s: float = 30.0
    user: str | None = None  # whose groups to check; None: the current (or service) user


CheckFn = Callable[[Context], "Check | list[Check]"]


def skipped(name: str) -> Check:
    return warn(name, "skipped: the show did not load", "fix the show first (see above)")


def wants_diffusers(show: Any) -> bool:
    v = None if show is None else show.variations
    return v is not None and v.model is not None and v.engine != "fallback"


# -- the show and the software ------------------------------------------------------
def check_show(ctx: Context) -> Check:
    if ctx.show is not None:
        return ok("show", f"{ctx.show.source} is valid ({ctx.show.show.name})")
    return fail("show", ctx.show_problem, "edit show.toml; `installation validate` shows the lines")


def check_python(ctx: Context) -> Check:
    return ok("python", f"{sys.version.split()[0]} at {sys.executable}")


def _version(dist: str) -> str | None:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return None


def check_packages(ctx: Context) -> list[Check]:
    found = {d: _version(d) for d in CORE_PACKAGES}
    missing = [d for d, v in found.items() if v is None]
    rows = []
    if _version("pygame") is not None:
        detail = "both pygame and pygame-ce are installed: they overwrite each other's `pygame`"
        rows.append(
            fail("packages", detail, "pip uninstall -y pygame pygame-ce; pip install pygame-ce")
        )
    if missing:
        rows.append(
            fail("packages", f"missing: {', '.join(missing)}", f"pip install {' '.join(missing)}")
        )
    if not rows:
        rows.append(ok("packages", ", ".join(f"{d} {v}" for d, v in found.items())))
    if wants_diffusers(ctx.show):
        rows.append(_ai_packages(ctx.show.variations.engine))
    return rows


def _ai_packages(engine: str) -> Check:
    found = {d: _version(d) for d in AI_PACKAGES}
    missing = [d for d, v in found.items() if v is None]
    if not missing:
        return ok("ai packages", ", ".join(f"{d} {v}" for d, v in found.items()))
    if engine == "diffusers":
        return fail("ai packages", f"missing {', '.join(missing)}: the show needs them", FIX_AI)
    return warn("ai packages", f"missing {', '.join(missing)}: engine auto falls back", FIX_AI)


def check_gpu(ctx: Context) -> Check:
    if ctx.show is None:
        return skipped("gpu")
    if not wants_diffusers(ctx.show):
        return ok("gpu", "not needed: no AI model configured (fallback engine)")
    device = ctx.show.engine.device
    try:
        import torch  # lazily: it costs seconds, and only AI shows need it
    except ImportError:
        return warn("gpu", "torch is not installed: cannot check", FIX_AI)
    if not torch.cuda.is_available():
        if device == "cpu":
            return ok("gpu", "engine.device = cpu (slow, but as configured)")
        detail = f"no CUDA device (torch {torch.__version__}): images would take seconds or more"
        return (fail if device == "cuda" else warn)("gpu", detail, FIX_CUDA)
    props = torch.cuda.get_device_properties(0)
    vram = props.total_memory / 2**30
    detail = f"{props.name}, {vram:.1f} GB VRAM, CUDA {torch.version.cuda}"
    if vram < MIN_VRAM_GB:
        fix = "use a small model (SD-Turbo) and a tiny VAE, or a bigger GPU"
        return warn("gpu", f"{detail} (under {MIN_VRAM_GB:g} GB)", fix)
    return ok("gpu", detail)


def check_model(ctx: Context) -> Check:
    if ctx.show is None:
        return skipped("model")
    v = ctx.show.variations
    if v.model is None:
        return ok("model", "none configured: the fallback engine renders")
    path = ctx.show.resolve(v.model)
    config = ctx.show.resolve(v.model_config_dir) if v.model_config_dir else None
    if not path.exists() and v.engine != "fallback":
        detail = (
            f"{path} not found: the wall shows the fallback engine until it appears "
            "(`installation run` tries again every minute and on reload)"
        )
        fix = "mount the model disk (see `lsblk` and `findmnt`) or fix variations.model"
        return fail("model", detail, fix)
    try:
        from installation.models.folders import require_model
    except ImportError as e:
        return warn("model", f"check skipped ({e})", f"check {path} by hand")
    try:
        report = require_model(path, config)
    except Exception as e:  # ModelError says what is wrong; anything else is a FAIL too
        return fail("model", str(e), f"installation models check {path}")
    return ok("model", f"{path}: {report.kind}, family {report.family}")


# -- the machine --------------------------------------------------------------------
def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_disk(ctx: Context) -> Check:
    if ctx.show is None:
        return skipped("disk")
    where = _existing(ctx.show.storage_dir)
    if not os.access(where, os.W_OK):
        fix = f"sudo chown -R {SERVICE_USER} {where}, or set [storage] dir"
        return fail("disk", f"cannot write {where} (storage for cache and archive)", fix)
    free_mb = shutil.disk_usage(where).free / 2**20
    archive = ctx.show.archive.max_mb if ctx.show.archive.enabled else 0
    budget = ctx.show.cache.disk_mb + archive
    detail = (
        f"{free_mb / 1024:.1f} GB free at {where} (cache + archive budget {budget / 1024:.1f} GB)"
    )
    if free_mb < MIN_FREE_MB:
        return fail("disk", detail, "free some space, or move [storage] dir to a bigger disk")
    if free_mb < budget:
        fix = "lower [archive] max_mb or [cache] disk_mb, or free space"
        return warn("disk", f"{detail}: the disk fills before the archive's limit", fix)
    return ok("disk", detail)


DISPLAY_PROBE = """
import json, os
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame
pygame.display.init()
print(json.dumps({"driver": pygame.display.get_driver(),
                  "sizes": [list(s) for s in pygame.display.get_desktop_sizes()]}))
pygame.display.quit()
"""


def check_display(ctx: Context) -> Check:
    """Probe SDL in a child process, so no display stays open in ours, and judge what it
    found by `run`'s own rule (display/drivers.py): an invisible driver SDL fell back to
    is a FAIL, since `run` refuses it."""
    from installation.display.drivers import INVISIBLE_DRIVERS, refused_driver

    requested = os.environ.get("SDL_VIDEODRIVER", "")
    driver = requested or "(SDL's choice)"
    cmd = [sys.executable, "-c", DISPLAY_PROBE]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=ctx.probe_timeout_s)
    except subprocess.TimeoutExpired:
        return fail("display", f"SDL did not answer in {ctx.probe_timeout_s:g} s", FIX_DISPLAY)
    try:
        found = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        err = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return fail("display", f"SDL_VIDEODRIVER={driver}: {err}", FIX_DISPLAY)
    sizes = [f"{w}x{h}" for w, h in found["sizes"]]
    detail = f"driver {found['driver']}, {len(sizes)} screen(s): {', '.join(sizes) or 'none'}"
    if problem := refused_driver(found["driver"], requested):
        return fail("display", f"{detail}: {problem}; `installation run` refuses it", FIX_INVISIBLE)
    wanted = ctx.show.display.display if ctx.show is not None else 0
    if wanted >= len(sizes):
        fix = "set [display] display to an existing screen (0 = first), or connect it"
        return fail("display", f"{detail}; the show wants screen {wanted}", fix)
    if found["driver"] in INVISIBLE_DRIVERS:  # asked for by name: --headless and tests only
        detail += f" (SDL_VIDEODRIVER={requested}: nothing reaches a screen; fine headless)"
        return warn("display", detail, FIX_DISPLAY)
    return ok("display", detail)


def check_clock(ctx: Context) -> Check:
    if shutil.which("timedatectl"):
        out = _run(["timedatectl", "show", "-p", "NTPSynchronized", "--value"])
        if out == "yes":
            return ok("clock", "synchronised (timedatectl)")
        if out == "no":
            return warn("clock", "not synchronised: schedules and OSC bundles drift", FIX_CLOCK)
    if shutil.which("chronyc"):
        out = _run(["chronyc", "tracking"]) or ""
        if "Not synchronised" in out:
            return warn("clock", "chrony: not synchronised", FIX_CLOCK)
        if "Leap status" in out:
            return ok("clock", "synchronised (chrony)")
    return warn("clock", "cannot tell (no working timedatectl or chronyc)", FIX_CLOCK)


def _run(cmd: Sequence[str]) -> str | None:
    try:
        proc = subprocess.run(list(cmd), capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def _groups_of(user: str) -> set[str]:
    entry = pwd.getpwnam(user)
    names = {g.gr_name for g in grp.getgrall() if user in g.gr_mem}
    with contextlib.suppress(KeyError):
        names.add(grp.getgrgid(entry.pw_gid).gr_name)
    return names


def _group_exists(name: str) -> bool:
    try:
        grp.getgrnam(name)
    except KeyError:
        return False
    return True


def check_groups(ctx: Context) -> Check:
    user = ctx.user or pwd.getpwuid(os.geteuid()).pw_name
    if ctx.user is None and os.geteuid() == 0:  # root: check the service's user instead
        try:
            user = pwd.getpwnam(SERVICE_USER).pw_name
        except KeyError:
            detail = f"running as root, and the service user '{SERVICE_USER}' does not exist"
            return warn("groups", detail, f"sudo adduser --system --group {SERVICE_USER}")
    try:
        have = _groups_of(user)
    except KeyError:
        return fail("groups", f"no such user {user!r}", "create the user first")
    missing = [g for g in GROUPS if g not in have]
    if not missing:
        return ok("groups", f"{user} is in {', '.join(GROUPS)}")
    absent = [g for g in missing if not _group_exists(g)]
    note = f" ({', '.join(absent)} does not exist on this machine)" if absent else ""
    fix = f"sudo usermod -aG {','.join(missing)} {user}, then log in again"
    return warn("groups", f"{user} is not in {', '.join(missing)}{note}", fix)


def check_upscale(ctx: Context) -> Check:
    """[upscale] mode x4: its upscaler folder, checked like the model (not loaded)."""
    if ctx.show is None:
        return skipped("upscale")
    up = ctx.show.upscale
    if up is None:
        return ok("upscale", "off: the screen enlarges the picture ([display] upscale)")
    if up.model is None:
        return ok("upscale", f"{up.mode} with the show's model")
    path = ctx.show.resolve(up.model)
    fallback = "pictures are enlarged with Lanczos instead"
    if not path.exists():
        fix = "mount the model disk or fix upscale.model"
        return fail("upscale", f"{path} not found: {fallback}", fix)
    from installation.models.folders import ModelError, require_model

    try:
        report = require_model(path)
    except ModelError as e:
        return fail("upscale", f"{e}: {fallback}", f"installation models check {path}")
    if report.pipeline_class != "StableDiffusionUpscalePipeline":
        fix = "set upscale.model to a stable-diffusion-x4-upscaler folder"
        return fail("upscale", f"{path} is a {report.pipeline_class}: {fallback}", fix)
    return ok("upscale", f"x4 {path}")
