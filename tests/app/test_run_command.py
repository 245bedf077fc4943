"""`installation run` as a technician meets it: a real process, its exit code, its words."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from tests.app.test_start_unwinds import write_show

ENV = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}


def installation(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "installation", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=ENV,
    )


def test_run_with_a_busy_port_says_so_in_one_line_and_exits_non_zero(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as busy:
        busy.bind(("127.0.0.1", 0))
        port = busy.getsockname()[1]
        write_show(tmp_path / "show", osc_listen=f"127.0.0.1:{port}")
        proc = installation("run", str(tmp_path / "show"), "--headless")
    assert proc.returncode == 4, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = [line for line in proc.stderr.splitlines() if line.startswith("installation run:")]
    assert len(lines) == 1 and f"127.0.0.1:{port}" in lines[0], proc.stderr


def test_status_says_stopped_at_once_after_a_clean_exit(tmp_path: Path) -> None:
    show = tmp_path / "show"
    write_show(show)
    run = installation("run", str(show), "--headless", "--exit-after", "1")
    assert run.returncode == 0, run.stderr
    status = installation("status", str(show))
    assert status.returncode == 3, status.stdout + status.stderr  # not running
    assert "STOPPED" in status.stdout and "nothing runs" in status.stdout
    assert "the kiosk is running" not in status.stdout
