"""The firmware's portable C core: its host tests, and its frames decoded by the Python codec."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from installation.core.throws import DieEvent
from installation.dice.protocol import Dropped, Hello, decode
from tests.conftest import need_tool

FIRMWARE = Path(__file__).resolve().parents[2] / "hardware" / "firmware"


@pytest.fixture(autouse=True)
def _compiler() -> None:
    """Skipped without gcc and make, except in CI (INSTALLATION_REQUIRE_TOOLS=1)."""
    need_tool("gcc")
    need_tool("make")


def make(target: str, build: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "-C", str(FIRMWARE), target, f"BUILD={build}", "CC=gcc"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_c_core_host_tests_pass(tmp_path: Path) -> None:
    r = make("test", tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert ", 0 failed" in r.stdout


def test_firmware_frames_decode_in_python(tmp_path: Path) -> None:
    r = make("frames", tmp_path)
    assert r.returncode == 0, r.stderr
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("$")]
    decoded = [decode(ln.encode(), dice=2) for ln in lines]
    assert len(decoded) == 27
    assert not [(ln, d) for ln, d in zip(lines, decoded, strict=True) if isinstance(d, Dropped)]
    assert decoded[0] == Hello(1, "dice-imu-1.0", 2)
    assert sum(isinstance(d, DieEvent) for d in decoded) == 24
