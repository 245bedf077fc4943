"""hardware/PROTOCOL.md stays true: every example frame in it decodes with its checksum."""

from __future__ import annotations

import re
from pathlib import Path

from installation.core.throws import DieEvent, DieState
from installation.dice.protocol import DROP_REASONS, MAX_FACES, Dropped, decode

DOC = Path(__file__).resolve().parents[2] / "hardware" / "PROTOCOL.md"


def test_every_example_frame_in_the_protocol_doc_decodes() -> None:
    frames = [ln for ln in DOC.read_text().splitlines() if re.fullmatch(r"\$.*\*[0-9A-F]{2}", ln)]
    assert len(frames) >= 9
    bad = [(f, m) for f in frames if isinstance(m := decode(f.encode(), dice=2), Dropped)]
    assert not bad


def test_the_bad_checksum_example_is_really_bad() -> None:
    assert "`$DIE,1200,1,LANDED,3*4E` (should be `4F`)" in DOC.read_text()
    got = decode(b"$DIE,1200,1,LANDED,3*4E")
    assert isinstance(got, Dropped) and got.reason == "checksum" and "4F" in got.detail


def test_the_doc_states_the_face_limit_and_every_drop_reason() -> None:
    text = DOC.read_text()
    assert f"2 to **{MAX_FACES}** faces (`MAX_FACES`" in text
    assert all(f"| `{reason}` |" in text for reason in DROP_REASONS)
    d20 = "$DIE,3100,1,LANDED,17*7B"
    assert f"`{d20}`" in text
    assert decode(d20, dice=2, faces=20) == DieEvent(1, DieState.LANDED, 17, 3100)
    got = decode(d20, dice=2, faces=6)
    assert isinstance(got, Dropped) and got.reason == "face_range"
