from __future__ import annotations

from pathlib import Path

from installation.store import StateStore


def test_count_persists_across_instances(tmp_path: Path) -> None:
    s = StateStore(tmp_path / "state" / "state.json")
    assert s.count() == 0
    s.save_count(7)
    assert StateStore(tmp_path / "state" / "state.json").count() == 7
    assert not [p for p in (tmp_path / "state").iterdir() if p.name.endswith(".tmp")]


def test_corrupt_state_is_empty_not_fatal(tmp_path: Path) -> None:
    p = tmp_path / "state.json"
    p.write_text("{half written")
    assert StateStore(p).count() == 0
    p.write_text('{"throw_count": -3}')
    assert StateStore(p).count() == 0
