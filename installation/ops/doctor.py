"""`installation doctor SHOW`: is this machine ready to run this show unattended?

One table of checks, each PASS, WARN or FAIL with the fix a technician can apply.
Each check is a small function of a Context returning one Check or a list; CHECKS
lists them in table order. The checks live in ops/doctor_checks.py (the show, the
software, the machine) and ops/doctor_links.py (dice, OSC, projectors). Heavy or
risky probes (torch, SDL, serial ports) are imported lazily or run in a subprocess,
and a check that crashes becomes a FAIL row, never a traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

# Re-exported: the checks, their row and context stay importable from here, as before.
from installation.ops.doctor_checks import (
    AI_PACKAGES,
    CORE_PACKAGES,
    DISPLAY_PROBE,
    FIX_AI,
    FIX_CLOCK,
    FIX_CUDA,
    FIX_DISPLAY,
    GROUPS,
    MIN_FREE_MB,
    MIN_VRAM_GB,
    SERVICE_USER,
    Check,
    CheckFn,
    Context,
    Level,
    check_clock,
    check_disk,
    check_display,
    check_gpu,
    check_groups,
    check_model,
    check_packages,
    check_python,
    check_show,
    check_upscale,
    fail,
    ok,
    wants_diffusers,
    warn,
)
from installation.ops.doctor_links import (
    _pjlink_row,
    _port_row,
    check_osc,
    check_projectors,
    check_serial,
    hello_exchange,
)

__all__ = [
    "AI_PACKAGES",
    "CHECKS",
    "CORE_PACKAGES",
    "DISPLAY_PROBE",
    "FIX_AI",
    "FIX_CLOCK",
    "FIX_CUDA",
    "FIX_DISPLAY",
    "GROUPS",
    "MIN_FREE_MB",
    "MIN_VRAM_GB",
    "SERVICE_USER",
    "Check",
    "CheckFn",
    "Context",
    "Level",
    "_pjlink_row",
    "_port_row",
    "check_clock",
    "check_disk",
    "check_display",
    "check_gpu",
    "check_groups",
    "check_model",
    "check_osc",
    "check_packages",
    "check_projectors",
    "check_python",
    "check_serial",
    "check_show",
    "check_upscale",
    "fail",
    "format_table",
    "hello_exchange",
    "load_context",
    "ok",
    "run_doctor",
    "wants_diffusers",
    "warn",
]


CHECKS: tuple[CheckFn, ...] = (
    check_show,
    check_python,
    check_packages,
    check_gpu,
    check_model,
    check_upscale,
    check_disk,
    check_display,
    check_serial,
    check_osc,
    check_projectors,
    check_clock,
    check_groups,
)


def load_context(folder: Path, **options: Any) -> Context:
    """Load the show (every issue, as the loader reports them) into a Context."""
    ctx = Context(folder=folder, **options)
    try:
        from installation.show.load import load_show

        ctx.show = load_show(folder)
    except Exception as e:  # ShowError lists every issue; anything else is reported too
        ctx.show_problem = str(e) or type(e).__name__
    return ctx


def run_doctor(folder: Path, *, checks: Sequence[CheckFn] = CHECKS, **options: Any) -> list[Check]:
    """Every check's rows, in order. A check that crashes becomes a FAIL row."""
    ctx = load_context(folder, **options)
    rows: list[Check] = []
    for check in checks:
        name = getattr(check, "__name__", "check").removeprefix("check_")
        try:
            result = check(ctx)
        except Exception as e:
            detail = f"the check itself failed: {type(e).__name__}: {e}"
            result = fail(name, detail, "report this; the other checks still ran")
        rows += result if isinstance(result, list) else [result]
    return rows


def format_table(rows: Sequence[Check]) -> str:
    """One aligned table; each fix on its own line under its row; a count at the end."""
    width = max([len(r.name) for r in rows] + [5])
    pad = " " * (5 + 2 + width + 2)
    lines = [f"{'LEVEL':<5}  {'CHECK':<{width}}  DETAIL"]
    for r in rows:
        first, *more = r.detail.splitlines() or [""]
        lines.append(f"{r.level:<5}  {r.name:<{width}}  {first}")
        lines += [pad + d for d in more]
        if r.fix and r.level != "PASS":
            lines.append(f"{pad}fix: {r.fix}")
    count = {lvl: sum(r.level == lvl for r in rows) for lvl in ("PASS", "WARN", "FAIL")}
    lines.append(f"{count['PASS']} passed, {count['WARN']} warnings, {count['FAIL']} failed")
    return "\n".join(lines)
