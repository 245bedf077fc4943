"""Smoke tests: every benchmark runs with tiny counts and gives well-formed results.

Timings are never asserted: only that each figure exists, is a finite number with a
unit, that goals get a verdict, and that the checks the benchmarks make themselves
(throws shown, faces right, pixels read back) came out right.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from bench import cold_start, engine_bench, io_bench, latency
from bench.common import Result, Row, tiny_model
from bench.report import BEGIN, END, render, rewrite
from bench.stages import STAGES


def well_formed(result: Result, key: str) -> None:
    assert result.key == key
    assert result.title != "FAILED", result.measures
    assert result.rows and result.samples > 0 and result.measures
    for row in result.rows:
        assert row.name and row.unit, row
        assert math.isfinite(row.value), row
        if row.goal is not None:
            assert row.met in (True, False), row
    json.dumps(result.as_dict())  # the JSON next to BENCHMARKS.md


def test_goal_verdicts_and_rewrite_keeps_the_prose(tmp_path: Path) -> None:
    result = Result("9", "t", "what")
    result.add("fast enough", 10.0, "ms", goal=21.7)
    result.add("too slow", 30.0, "ms", goal=21.7)
    result.add("headroom", 5.0, "x", goal=10.0, better="higher")
    assert [r.met for r in result.rows] == [True, False, False]
    doc = tmp_path / "BENCHMARKS.md"
    doc.write_text(f"# B\n\nprose before\n\n{BEGIN}\nold numbers\n{END}\n\nprose after\n")
    rewrite(doc, render([result], {"cpu": "test"}, quick=True))
    text = doc.read_text()
    assert "prose before" in text and "prose after" in text
    assert "old numbers" not in text
    assert text.count(BEGIN) == 1 and text.count(END) == 1
    assert "**MISSED**" in text and "**met**" in text
    assert "Not a quiet machine" in text  # no load average given: never called quiet
    result.rows[1] = Row("too slow", 30.0, "ms", goal=21.7, note="display side 25 ms")
    quiet = {"cores": "2 logical, 2 usable", "load average at start": "0.10 0.20 0.30"}
    text = render([result], quiet, quick=False)
    assert "**MISSED** (display side 25 ms)" in text and "Not a quiet machine" not in text


def test_a_row_without_a_number_gets_no_verdict() -> None:
    assert Row("x", float("nan"), "ms", goal=1.0).met is None


def test_codec_and_osc(tmp_path: Path) -> None:
    result = io_bench.bench_io(200, 1, 5)
    well_formed(result, "6")
    assert not result.notes  # every cue arrived


def test_throw_to_screen_cache_hit(tmp_path: Path) -> None:
    result = latency.bench_cache_hit(tmp_path, 2)
    well_formed(result, "1")
    for name in ("worker", "cache", "memory"):
        assert f"{name}: 2/2 throws shown, 0 with wrong faces, 2/2 first frames verified" in (
            " ".join(result.notes)
        )


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_model(tmp_path_factory.mktemp("bench-model"))


@pytest.mark.slow
def test_live_tiny_model(tmp_path: Path, model: Path) -> None:
    result = latency.bench_live_tiny(tmp_path, 2, model)
    well_formed(result, "2")
    assert "live: 2/2 throws shown, 0 with wrong faces, 2/2" in result.notes[0]
    assert "stage breakdown over 2 throws" in result.notes[2]  # every stage was stamped
    names = {row.name for row in result.rows}
    assert {f"stage: {s} p95" for s in STAGES} <= names
    (goal,) = [row for row in result.rows if row.goal is not None]
    assert goal.name == "added overhead per throw, without the call's own spread p95"


@pytest.mark.slow
def test_frames_engine_and_fill(tmp_path: Path, model: Path) -> None:
    frames = latency.bench_frames(tmp_path, 0.3, model)
    well_formed(frames, "3")
    engine = engine_bench.bench_engine_overhead(tmp_path, 2, model)
    well_formed(engine, "4")
    assert "identical to the bare call: 3/3" in engine.notes[0]
    well_formed(engine_bench.bench_cache_fill(tmp_path, 1, model, count=2), "5")
    for command in ("prerender", "sheet"):  # what bench 5 times with all 36 outcomes
        assert engine_bench._command(command, tmp_path / command, model) > 0


@pytest.mark.slow
def test_cold_start(tmp_path: Path, model: Path) -> None:
    result = cold_start.bench_cold_start(tmp_path, 1, model)
    well_formed(result, "7")
    assert result.notes == ["engine reported at READY: diffusers"]


def test_main_writes_the_tables_and_refuses_unknown_benchmarks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bench.__main__ import main

    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    out = tmp_path / "BENCHMARKS.md"
    raw = tmp_path / "results.json"
    assert main(["--quick", "--only", "6", "--out", str(out), "--json", str(raw)]) == 0
    assert BEGIN in out.read_text() and "Dice codec and OSC cues" in out.read_text()
    data = json.loads(raw.read_text())
    assert [r["key"] for r in data["results"]] == ["6"]
    with pytest.raises(SystemExit):
        main(["--only", "12", "--out", str(out), "--json", str(raw)])


def test_gpu_bench_skips_cleanly_without_cuda(capsys: pytest.CaptureFixture[str]) -> None:
    from bench import gpu

    reason = gpu.why_skip()
    if reason is None:
        pytest.skip("a CUDA GPU is present: the skip path cannot be exercised here")
    assert gpu.main(["--iterations", "1"]) == 0
    assert f"GPU benchmark skipped: {reason}" in capsys.readouterr().out


def test_console_burst(tmp_path: Path) -> None:
    from bench import web_bench

    result = web_bench.bench_web_burst(tmp_path, 50, 0.3)
    well_formed(result, "8")
    assert not any("outside 4xx" in n for n in result.notes), result.notes
