"""The books of a soak run: every throw accounted for, files checked, the RELIABILITY table."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

TEMP_MARKERS = (".tmp", ".part", ".partial", "~")


# -- the books ------------------------------------------------------------------------------------
@dataclass
class LedgerReport:
    committed: int
    shown: int
    superseded: int
    pending: list[int]
    lost: list[int]
    worst_latency_s: float


class Ledger:
    """Every committed throw must end shown, or superseded by a newer throw in time.

    Fresh seed mode numbers throws 1, 2, 3 ... in commit order, so the n-th 'landed'
    cue is variation n and its 'shown' cue names n. A throw not shown is superseded
    only when the next one landed within `deadline_s` of it; otherwise it is lost.
    """

    def __init__(self, deadline_s: float, first_number: int = 1) -> None:
        self.deadline_s = deadline_s
        self.first_number = first_number

    def report(self, landed: list[float], shown: dict[int, float], now: float) -> LedgerReport:
        done = superseded = 0
        pending: list[int] = []
        lost: list[int] = []
        worst = 0.0
        for i, t in enumerate(landed):
            n = self.first_number + i
            if n in shown:
                done += 1
                worst = max(worst, shown[n] - t)
            elif i + 1 < len(landed) and landed[i + 1] - t <= self.deadline_s:
                superseded += 1
            elif now - t < self.deadline_s:
                pending.append(n)
            else:
                lost.append(n)
        return LedgerReport(len(landed), done, superseded, pending, lost, round(worst, 3))


# -- files left behind ---------------------------------------------------------------------------
def check_files(storage: Path) -> list[str]:
    """Problems in the storage folder: PNGs that do not verify, temp files, bad JSON."""
    from PIL import Image

    problems: list[str] = []
    for path in sorted(p for p in storage.rglob("*") if p.is_file()):
        name = path.name
        if any(m in name for m in TEMP_MARKERS):
            problems.append(f"temp file left behind: {path}")
        elif name.endswith(".png"):
            try:
                with Image.open(path) as im:
                    im.verify()
            except Exception as e:
                problems.append(f"corrupt PNG {path}: {e}")
        elif name.endswith(".json"):
            try:
                json.loads(path.read_text("utf-8"))
            except (OSError, ValueError) as e:
                problems.append(f"corrupt JSON {path}: {e}")
    return problems


@dataclass
class SoakReport:
    """The numbers RELIABILITY.md records."""

    seconds: float = 0.0
    throws_driven: int = 0
    throws_uncommitted: int = 0
    faults: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    ledger: LedgerReport | None = None
    longest_gap_ms: float | None = None
    worst_status_age_s: float = 0.0
    rss_start_kb: int | None = None
    rss_end_kb: int | None = None
    rss_max_kb: int | None = None
    worker_restarts: int | None = None
    exit_code: int | None = None
    problems: list[str] = field(default_factory=list)

    def markdown(self) -> str:
        led = self.ledger or LedgerReport(0, 0, 0, [], [], 0.0)
        rows = [
            ("duration", f"{self.seconds / 60:.1f} min"),
            ("throws driven (dice emulator)", self.throws_driven),
            ("throws not committed by the dice link", self.throws_uncommitted),
            ("throws committed (dice + OSC)", led.committed),
            ("shown", led.shown),
            ("superseded by a newer throw", led.superseded),
            ("lost", len(led.lost)),
            ("worst throw-to-shown", f"{led.worst_latency_s:.2f} s"),
            ("longest frame gap", f"{self.longest_gap_ms} ms"),
            ("oldest status file seen", f"{self.worst_status_age_s:.1f} s"),
            (
                "app RSS start / end / max",
                f"{_mb(self.rss_start_kb)} / {_mb(self.rss_end_kb)} / {_mb(self.rss_max_kb)}",
            ),
            ("worker restarts", self.worker_restarts),
            ("exit code (SIGTERM at the end)", self.exit_code),
        ]
        rows += [(f"fault: {k}", v) for k, v in sorted(self.faults.items())]
        rows += [(f"skipped: {k}", v) for k, v in sorted(self.skipped.items())]
        lines = ["| measure | value |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in rows]
        return "\n".join(lines)


def _mb(kb: int | None) -> str:
    return "?" if kb is None else f"{kb / 1024:.0f} MB"
