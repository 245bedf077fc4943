"""Fault and soak harness: runs the real app as a subprocess and injects faults.

Not used by the running installation; tests/soak and bench/soak.py build on it.
"""

from __future__ import annotations

from installation.ops.soak.driver import Soak
from installation.ops.soak.report import Ledger, LedgerReport, SoakReport, check_files
from installation.ops.soak.watch import (
    AppProcess,
    CueLog,
    children,
    rss_kb,
    worker_pids,
    write_show,
)

__all__ = [
    "AppProcess",
    "CueLog",
    "Ledger",
    "LedgerReport",
    "Soak",
    "SoakReport",
    "check_files",
    "children",
    "rss_kb",
    "worker_pids",
    "write_show",
]
