from __future__ import annotations

from pathlib import Path

from installation.store import StateStore


def test_count_persists_across_instances(tmp_path: Path) -> None:
    s = StateStore(tmp_path / "state" / "state.json")
    assert s.progress() == (0, {})
    s.save_progress(7, {"1-2": 3})
    assert StateStore(tmp_path / "state" / "state.json").progress() == (7, {"1-2": 3})
    assert not [p for p in (tmp_path / "state").iterdir() if p.name.endswith(".tmp")]


def test_corrupt_state_is_empty_not_fatal(tmp_path: Path) -> None:
    p = tmp_path / "state.json"
    p.write_text("{half written")
    assert StateStore(p).progress() == (0, {})
    p.write_text('{"throw_count": -3, "outcome_repeats": {"1-1": "x", "2-2": 4}}')
    assert StateStore(p).progress() == (0, {"2-2": 4})
