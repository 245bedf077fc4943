"""The soak driver: the real app, an emulated dice box, faults in turn, the books kept.

`Soak` starts everything in a temp folder, drives throws through the dice emulator
and injects one fault at a time. Each `fault_*` method returns what it observed, so
a test can assert the specific recovery; anything that breaks the promises (the
process exits, a throw is lost, the frame loop or status stalls, memory grows,
files are corrupted) is recorded in `problems` and in the final `SoakReport`.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from installation.dice.emulator import Emulator
from installation.ops.soak import inject
from installation.ops.soak.report import Ledger, SoakReport, check_files
from installation.ops.soak.watch import (
    AppProcess,
    CueLog,
    dice_port,
    dice_status,
    free_udp_port,
    proc_state,
    section,
    write_show,
)


class Soak:
    """One soak session. Use as a context manager; `report()` after it closed."""

    def __init__(
        self,
        root: Path,
        *,
        worker_timeout_s: float = 2.0,
        silence_s: float = 1.0,
        seed: int = 0,
        full_disk: bool = True,
        max_gap_ms: float = 2000.0,
        max_status_age_s: float = 5.0,
        rss_growth_kb: int = 64 * 1024,
        say: Callable[[str], None] = lambda _: None,
    ) -> None:
        self.root, self.storage = root, root / "var"
        self.worker_timeout_s, self.silence_s = worker_timeout_s, silence_s
        self.deadline_s = worker_timeout_s + 8.0  # hang detection + restart + fallback render
        self.rng = random.Random(seed)
        self.want_full_disk = full_disk
        self.max_gap_ms, self.max_status_age_s = max_gap_ms, max_status_age_s
        self.rss_growth_kb = rss_growth_kb
        self.say = say
        self.report = SoakReport()
        self.problems = self.report.problems
        self.ledger = Ledger(self.deadline_s)
        self._mounted = False
        self._quiet_status = False  # the disk is full on purpose: the status file cannot update
        self._stall_seen = self._stale_seen = False  # reported when sampled, not only at the end
        self._stop = threading.Event()
        self._started = 0.0

    # -- set-up and tear-down ----------------------------------------------------------------
    def __enter__(self) -> Soak:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        self.storage.mkdir(parents=True, exist_ok=True)
        if self.want_full_disk:
            self._mount_tmpfs()
        self.emu = Emulator(2, link=self.root / "dice0", heartbeat_s=0.25)
        self.cues = CueLog()
        self.control_port = free_udp_port()
        self.show_toml = write_show(
            self.root / "show",
            link=self.root / "dice0",
            storage=self.storage,
            control_port=self.control_port,
            cue_port=self.cues.port,
            worker_timeout_s=self.worker_timeout_s,
            silence_s=self.silence_s,
        )
        self.app = AppProcess(self.root / "show", self.root / "app.log", self.storage)
        self.app.start()
        self._started = time.monotonic()
        self._sampler = threading.Thread(target=self._sample_loop, name="soak-sampler", daemon=True)
        self._sampler.start()
        ready = self.wait_status(
            lambda s: (
                section(s, "worker").get("state") == "ready" and dice_status(s).get("connected")
            ),
            90,
        )
        if not ready:
            self.problem(f"the app never became ready; log:\n{self.app.log_text()[-3000:]}")
            return
        self.throw()
        self.report.rss_start_kb = self.app.sample().rss_kb

    def close(self) -> SoakReport:
        """Stop the app (SIGTERM), check the files it left, put everything away."""
        if self._stop.is_set():
            return self.report
        self._stop.set()
        r = self.report
        if hasattr(self, "app"):  # start() may have failed half-way
            last = self.app.sample()
            r.rss_end_kb, r.longest_gap_ms = last.rss_kb, last.longest_gap_ms
            r.worker_restarts = section(self.app.status() or {}, "worker").get("restarts")
            r.ledger = self.ledger.report(
                self.cues.times("landed"), self.cues.shown(), time.monotonic()
            )
            self._sampler.join(timeout=5)
            r.exit_code = self.app.stop()
            r.seconds = time.monotonic() - self._started
            self._judge(r)
        for part in ("emu", "cues"):
            if hasattr(self, part):
                getattr(self, part).close()
        self.problems += check_files(self.storage)
        if self._mounted:
            inject.unmount(self.storage)
        return r

    def _judge(self, r: SoakReport) -> None:
        assert r.ledger is not None
        if r.ledger.lost:
            self.problem(f"throws lost (neither shown nor superseded): {r.ledger.lost}")
        if r.ledger.pending:
            self.problem(f"throws still not shown at the end: {r.ledger.pending}")
        if r.exit_code != 0:
            self.problem(f"exit code {r.exit_code} after SIGTERM (expected a clean 0)")
        gap = r.longest_gap_ms
        if gap is not None and gap > self.max_gap_ms and not self._stall_seen:
            self.problem(f"frame loop stalled {gap} ms (bound {self.max_gap_ms})")
        if r.worst_status_age_s > self.max_status_age_s and not self._stale_seen:
            self.problem(f"status file {r.worst_status_age_s:.1f} s old: the frame loop stalled")
        if r.rss_start_kb and r.rss_end_kb and r.rss_end_kb - r.rss_start_kb > self.rss_growth_kb:
            self.problem(f"memory grew from {r.rss_start_kb} to {r.rss_end_kb} KiB")

    def _mount_tmpfs(self) -> None:
        err = inject.mount_tmpfs(self.storage)
        self._mounted = err == ""
        if err:
            self.report.skipped["disk_full"] = err

    # -- watching ------------------------------------------------------------------------------
    def problem(self, text: str) -> None:
        self.say(f"PROBLEM: {text}")
        self.problems.append(text)

    def _sample_loop(self) -> None:
        r, exited = self.report, False
        while not self._stop.wait(0.25):
            s = self.app.sample()
            if not s.alive and not exited:
                exited = True
                self.problem(f"the app exited ({self.app.proc and self.app.proc.returncode})")
            if s.rss_kb:
                r.rss_max_kb = max(r.rss_max_kb or 0, s.rss_kb)
            if s.status_age_s is not None and not self._quiet_status:
                r.worst_status_age_s = max(r.worst_status_age_s, round(s.status_age_s, 2))
            self._stalls(s.longest_gap_ms, r.worst_status_age_s)

    def _stalls(self, gap_ms: float | None, status_age_s: float) -> None:
        """A stall is reported when it is first seen (the progress line gives the time), not
        only when the run is judged: `longest_gap_ms` is the longest gap since start."""
        if gap_ms is not None and gap_ms > self.max_gap_ms and not self._stall_seen:
            self._stall_seen = True
            self.problem(f"frame loop stalled {gap_ms} ms (bound {self.max_gap_ms})")
        if status_age_s > self.max_status_age_s and not self._stale_seen:
            self._stale_seen = True
            self.problem(f"status file {status_age_s:.1f} s old: the frame loop stalled")

    def wait_status(self, ok: Callable[[dict[str, Any]], object], timeout: float) -> bool:
        """Wait for a status file written from now on that satisfies `ok`."""
        since, end = time.time(), time.monotonic() + timeout
        while time.monotonic() < end and self.app.alive():
            s = self.app.status()
            if s and s.get("written_at", 0) > since and bool(ok(s)):
                return True
            time.sleep(0.1)
        return False

    # -- visitors --------------------------------------------------------------------------------
    def throw(self, faces: tuple[int, int] | None = None, *, wait: bool = True) -> str:
        """A visitor's throw on the emulated dice: 'shown', 'committed', 'late' or 'uncommitted'."""
        faces = faces or (self.rng.randint(1, 6), self.rng.randint(1, 6))
        before = self.cues.count("landed")
        self.emu.throw(faces, rolling_ms=60)
        self.report.throws_driven += 1
        found: list[int] = []

        def landed() -> bool:  # the first 'landed' cue with these faces since the throw
            found[:] = self.cues.landed_index(list(faces), since=before)
            return bool(found)

        if not self.cues.wait(landed, 3.0):
            self.report.throws_uncommitted += 1
            self.problem(f"throw {faces} driven but not committed within 3 s")
            return "uncommitted"
        number = self.ledger.first_number + found[0]
        if not wait:
            return "committed"
        if self.cues.wait(lambda: self.cues.was_shown(number), self.deadline_s):
            return "shown"
        self.problem(f"throw {faces} (variation {number}) not shown within {self.deadline_s} s")
        return "late"

    def burst(self, n: int = 3) -> None:
        """Throws in quick succession: all but the last are superseded."""
        for _ in range(n - 1):
            self.throw(wait=False)
        self.throw()

    # -- faults ------------------------------------------------------------------------------------
    def _count(self, kind: str) -> None:
        self.report.faults[kind] = self.report.faults.get(kind, 0) + 1
        self.say(f"fault: {kind}")

    def _relinked(self, before: int) -> bool:
        ok = self.wait_status(
            lambda s: (
                dice_port(s).get("reconnects", 0) > before and dice_status(s).get("connected")
            ),
            20,
        )
        if not ok:
            self.problem("the dice link did not reconnect within 20 s")
        return ok

    def fault_unplug(self) -> dict[str, Any]:
        """Pull the USB cable, wait, plug it back: the link must reconnect by itself."""
        self._count("serial_unplug")
        before = dice_port(self.app.status() or {}).get("reconnects", 0)
        self.emu.unplug()
        time.sleep(0.3 + self.rng.random())
        self.emu.replug()
        return {"reconnected": self._relinked(before), "throw": self.throw()}

    def fault_silence(self) -> dict[str, Any]:
        """A hung dice box: no bytes at all for longer than the silence timeout."""
        self._count("serial_silence")
        before = dice_port(self.app.status() or {}).get("reconnects", 0)
        self.emu.silence(self.silence_s + 1.0)
        return {"reconnected": self._relinked(before), "throw": self.throw()}

    def fault_garbage(self) -> dict[str, Any]:
        """Noise on the wire (random bytes, an endless line, a bad checksum, a device error)."""
        self._count("serial_garbage")
        self.emu.inject_noise(200)
        self.emu.send(bytes(self.rng.randrange(256) for _ in range(5000)).replace(b"\n", b"."))
        self.emu.send(b"\n")
        self.emu.bad_checksum()
        self.emu.error("E42", "soak noise")
        result = self.throw()
        self.wait_status(lambda s: bool(dice_status(s).get("dropped")), 5)
        return {"throw": result, "dropped": dice_status(self.app.status() or {}).get("dropped", {})}

    def fault_worker_kill(self) -> dict[str, Any]:
        """SIGKILL the generation worker (a driver crash); a throw right after must still show."""
        self._count("worker_kill")
        old = self.app.worker_pid()
        if old is None:
            self.problem("no worker process found among the app's children")
            return {}
        os.kill(old, signal.SIGKILL)
        result = self.throw()
        return {"old": old, "new": self._new_worker(old), "throw": result}

    def fault_worker_hang(self) -> dict[str, Any]:
        """SIGSTOP the worker (a hung GPU call): the app must kill and replace it."""
        self._count("worker_hang")
        old = self.app.worker_pid()
        if old is None:
            self.problem("no worker process found among the app's children")
            return {}
        os.kill(old, signal.SIGSTOP)
        try:
            result = self.throw()
            end = time.monotonic() + self.worker_timeout_s + 10
            while proc_state(old) not in ("", "Z") and time.monotonic() < end:
                time.sleep(0.1)
            killed = proc_state(old) in ("", "Z")
            if not killed:
                self.problem(f"hung worker {old} still there after {self.worker_timeout_s + 10} s")
        finally:
            if proc_state(old) == "T":  # never leave a stopped process behind
                with contextlib.suppress(ProcessLookupError):
                    os.kill(old, signal.SIGKILL)
        return {"old": old, "killed": killed, "new": self._new_worker(old), "throw": result}

    def _new_worker(self, old: int) -> int | None:
        ok = self.wait_status(
            lambda s: (
                section(s, "worker").get("state") == "ready"
                and section(s, "worker").get("pid") not in (None, old)
            ),
            30,
        )
        new = self.app.worker_pid()
        if not ok or new in (None, old):
            self.problem(f"worker {old} was not replaced by a ready worker within 30 s")
        return new

    def fault_bad_show(self) -> dict[str, Any]:
        """A curator saves a broken show.toml while running, then asks for a reload."""
        self._count("bad_show_edit")
        good = self.show_toml.read_text("utf-8")
        try:
            self.show_toml.write_text(inject.BROKEN_SHOW, "utf-8")
            inject.send_udp(self.control_port, [inject.osc_message("/installation/reload")])
            result = self.throw()
        finally:
            self.show_toml.write_text(good, "utf-8")
        inject.send_udp(self.control_port, [inject.osc_message("/installation/reload")])
        return {"throw": result, "alive": self.app.alive(), "again": self.throw()}

    def fault_disk_full(self) -> dict[str, Any]:
        """The storage disk fills up: throws still show; writes resume once space is back."""
        if not self._mounted:
            self.report.skipped.setdefault("disk_full", "no tmpfs")
            return {"skipped": self.report.skipped["disk_full"]}
        self._count("disk_full")
        self._quiet_status = True
        results: list[str] = []
        logged = self.app.log_size()
        with inject.KeepFull(self.storage / "filler.bin"):
            # the disk stays full until the app has said so: its status file (written every
            # second) or a count write failed. A count write may well succeed: keeping
            # state.json.prev frees the old copy's page just before the new file needs one
            def said() -> bool:
                text = self.app.log_since(logged)
                return "state-write" in text or "not written" in text

            for _ in range(4):
                results.append(self.throw())
                if self.cues.wait(said, 6.0):
                    break
            results.append(self.throw())
        fresh = self.wait_status(lambda s: True, 10)
        self._quiet_status = False
        if not fresh:
            self.problem("the status file was not written again within 10 s of freeing the disk")
        faults = (self.app.status() or {}).get("faults", {})
        return {"throws": results, "faults": faults, "status_resumed": fresh}

    def fault_osc_flood(self, count: int = 400) -> dict[str, Any]:
        """Hundreds of datagrams to the control port: junk, bad args, huge, future bundles."""
        self._count("osc_flood")
        datagrams = inject.flood_datagrams(self.rng, count)
        inject.send_udp(self.control_port, datagrams)
        self.cues.settle(0.5)  # the flood's own throws land before the dice throw
        result = self.throw()  # after the flood: the last word is the dice's
        self.wait_status(lambda s: bool(section(s, "osc").get("counters")), 5)
        counters = section(self.app.status() or {}, "osc").get("counters", {})
        return {"sent": len(datagrams), "counters": counters, "throw": result}

    FAULTS = (
        "fault_garbage",
        "fault_unplug",
        "fault_worker_kill",
        "fault_silence",
        "fault_osc_flood",
        "fault_worker_hang",
        "fault_bad_show",
        "fault_disk_full",
    )

    def run(self, seconds: float, throws_between: int = 2) -> None:
        """Faults in turn with ordinary throws (and a burst) between, until time is up."""
        end = time.monotonic() + seconds
        i = 0
        while time.monotonic() < end and self.app.alive():
            getattr(self, self.FAULTS[i % len(self.FAULTS)])()
            for _ in range(throws_between):
                self.throw()
            if i % 3 == 2:
                self.burst()
            i += 1
