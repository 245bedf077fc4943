"""The soak harness's own parts: the books, the file check, /proc and the cue log."""

from __future__ import annotations

import multiprocessing
import os
import random
import time
from pathlib import Path

from PIL import Image
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from installation.ops.soak import inject
from installation.ops.soak.report import Ledger, SoakReport, check_files
from installation.ops.soak.watch import CueLog, children, rss_kb, worker_pids, write_show
from installation.show.load import load_show
from tests.disks import tmpfs
from tests.waiting import wait_until


def test_ledger_tells_shown_superseded_pending_and_lost_apart() -> None:
    ledger = Ledger(deadline_s=10.0)
    landed = [0.0, 1.0, 1.5, 30.0, 100.0]  # variations 1..5
    shown = {1: 0.4, 3: 2.0}
    r = ledger.report(landed, shown, now=105.0)
    assert (r.committed, r.shown, r.superseded) == (5, 2, 1)  # 2 was superseded by 3
    assert r.lost == [4]  # nothing came for 70 s and it was never shown
    assert r.pending == [5]  # still within its deadline
    assert r.worst_latency_s == 0.5


def test_ledger_numbers_start_where_the_count_stood() -> None:
    r = Ledger(deadline_s=5.0, first_number=41).report([0.0], {41: 1.0}, now=2.0)
    assert (r.shown, r.lost, r.pending) == (1, [], [])


def test_check_files_finds_half_written_and_temp_files(tmp_path: Path) -> None:
    Image.new("RGB", (8, 8), "red").save(tmp_path / "good.png")
    whole = (tmp_path / "good.png").read_bytes()
    (tmp_path / "half.png").write_bytes(whole[: len(whole) // 2])
    (tmp_path / ".state.json.abc.tmp").write_text("{")
    (tmp_path / "status.json").write_text('{"ok": 1')
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "fine.json").write_text("{}")
    problems = check_files(tmp_path)
    assert len(problems) == 3
    assert any("half.png" in p for p in problems)
    assert any("temp file" in p and ".tmp" in p for p in problems)
    assert any("corrupt JSON" in p and "status.json" in p for p in problems)


def _idle(seconds: float) -> None:
    time.sleep(seconds)


def test_proc_helpers_find_a_spawned_worker_and_its_memory() -> None:
    proc = multiprocessing.get_context("spawn").Process(target=_idle, args=(30,), daemon=True)
    proc.start()
    try:
        assert proc.pid in children(os.getpid())
        # its command line names spawn_main once the child has exec'd: moments later
        wait_until(lambda: proc.pid in worker_pids(os.getpid()), 30, "the spawned worker")
        assert (rss_kb(os.getpid()) or 0) > 1000
    finally:
        proc.kill()
        proc.join(5)
    assert proc.pid not in worker_pids(os.getpid())
    assert rss_kb(proc.pid) is None


def test_cue_log_records_cues_and_waits_for_them() -> None:
    cues = CueLog()
    try:
        b = OscMessageBuilder("/installation/shown")
        for a in (7, "123", 3, 4):
            b.add_arg(a)
        inject.send_udp(cues.port, [b"junk", b.build().dgram])
        assert cues.wait(lambda: 7 in cues.shown(), 5.0)
        assert cues.undecodable == 1
        assert not cues.wait(lambda: 8 in cues.shown(), 0.05)
    finally:
        cues.close()


def test_the_soak_show_is_a_valid_show(tmp_path: Path) -> None:
    write_show(
        tmp_path / "show",
        link=tmp_path / "dice0",
        storage=tmp_path / "var",
        control_port=9999,
        cue_port=9998,
    )
    show = load_show(tmp_path / "show")
    assert show.dice.ports == [str(tmp_path / "dice0")]
    assert show.variations.seed_mode == "fresh"  # the books rely on one number per throw
    assert show.engine.worker_timeout_s == 2.0


def _faces(datagram: bytes) -> tuple[int, ...] | None:
    """The faces of a well-formed /installation/throw with two ints, else None."""
    try:
        m = OscMessage(datagram)
    except Exception:
        return None
    ints = all(isinstance(p, int) for p in m.params)
    return tuple(m.params) if m.address.endswith("/throw") and len(m.params) == 2 and ints else None


def test_flood_mixes_junk_and_valid_throws() -> None:
    datagrams = inject.flood_datagrams(random.Random(3), 200)
    assert len(datagrams) == 200
    throws = [d for d in datagrams if _faces(d) is not None]
    assert 5 < len(throws) < 100
    assert {_faces(d) for d in datagrams} >= {None, (9, 9)}  # junk and out-of-range throws
    assert any(len(d) > 8192 for d in datagrams)


def test_fill_disk_stops_at_enospc(tmp_path: Path) -> None:
    with tmpfs(tmp_path, "256k") as disk:
        written = inject.fill_disk(disk / "filler")
        assert 0 < written <= 256 * 1024


def test_report_table_has_the_numbers() -> None:
    r = SoakReport(seconds=120, throws_driven=9, faults={"worker_kill": 2})
    r.ledger = Ledger(5.0).report([0.0, 1.0], {2: 1.5}, now=10)
    text = r.markdown()
    assert "| throws driven (dice emulator) | 9 |" in text
    assert "| superseded by a newer throw | 1 |" in text
    assert "| fault: worker_kill | 2 |" in text
    assert "| duration | 2.0 min |" in text
