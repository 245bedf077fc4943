"""Whatever a status file holds, read_status gives a dict or a StatusProblem and
format_status gives printable lines, each within a deadline: never a traceback or a hang."""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from installation.ops.status import StatusBoard, format_status, read_status
from installation.ops.status_sections import KNOWN
from installation.ops.status_text import StatusProblem
from tests import waiting
from tests.ops.test_status_files import FIELDS as STATUS_FIELDS

DEADLINE_S = 10.0  # per example; reading and formatting take milliseconds


def within(fn: Callable[[], Any]) -> Any:
    """fn() with the deadline (tests/waiting.py): its result or what it raised."""
    return waiting.within(fn, DEADLINE_S)


def read_bytes(raw: bytes) -> object:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "status.json"
        path.write_bytes(raw)
        return within(lambda: read_status(path))


def check_text(out: object) -> None:
    assert isinstance(out, str), repr(out)
    assert out.isprintable() or all(line.isprintable() for line in out.split("\n")), repr(out)
    assert all(len(line) <= 400 for line in out.split("\n"))


_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["\x1b[2J", "\u202e", "stopped", "1-1", "", "\n"]),
)
_json = st.recursive(
    _leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(st.text(max_size=8) | st.sampled_from(list(KNOWN)), inner, max_size=5),
    ),
    max_leaves=40,
)
FIELDS = [f for f in STATUS_FIELDS if f != "sections"]  # sections: their own strategy
_sections = st.dictionaries(st.sampled_from([*KNOWN, "cluster", "odd"]), _json, max_size=8)
_status = st.fixed_dictionaries(
    {"written_at": _json},
    optional={**{f: _json for f in FIELDS if f != "written_at"}, "sections": _sections | _json},
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
@example(b"[" * 10_000)
@example(b'{"written_at": ' + b"[" * 5000)
@example(b'{"written_at": ' + b"9" * 5000 + b"}")
def test_arbitrary_bytes_give_a_status_or_a_problem(raw: bytes) -> None:
    result = read_bytes(raw)
    if isinstance(result, StatusProblem):
        assert "status.json: not a status file" in str(result) and "\n" not in str(result)
    else:
        assert isinstance(result, dict) and "written_at" in result, repr(result)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_status)
def test_any_json_in_any_field_reads_and_formats(status: dict[str, Any]) -> None:
    raw = json.dumps(status).encode("utf-8")
    read = read_bytes(raw)
    assert isinstance(read, dict), repr(read)
    for now in (None, time.time()):
        check_text(within(lambda now=now: format_status(read, now_wall=now)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_json)
def test_format_status_takes_any_value_at_all(value: Any) -> None:
    check_text(within(lambda: format_status(value, now_wall=time.time())))


def test_a_real_boards_sections_use_their_readable_lines() -> None:
    """Real-shaped sections never fall back to `key value` dumps."""
    board = StatusBoard(show="demo")
    board.set_section("dice", {"connected": True, "dice": 2, "faces": 6, "reconnects": 0})
    board.set_section("archive", {"enabled": False})
    board.set_section("hours", {"phase": "closed", "scheduled": "closed", "override": None})
    board.set_section("osc", {"listen": "127.0.0.1:9000", "healthy": True, "counters": {}})
    text = format_status(board.snapshot())
    assert "dice      connected 2 x d6" in text
    assert "archive   off" in text and "hours     closed" in text
    assert "osc       listening on 127.0.0.1:9000" in text
