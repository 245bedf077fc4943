"""Whatever state.json holds, the reader gives counts or a Damage within a deadline, and
the kiosk's load gives the copy's count with a problem line: never another exception."""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from installation.storage.bounded import Damage
from installation.storage.state import MAX_COUNT, StateStore, encode_counts, parse_counts
from tests import waiting

DEADLINE_S = 10.0  # per example; a read takes well under a millisecond, only a hang comes near


def within(fn: Callable[[], Any]) -> Any:
    """fn() with the deadline (tests/waiting.py): its result or what it raised."""
    return waiting.within(fn, DEADLINE_S)


def check_parse(raw: bytes) -> None:
    result = within(lambda: parse_counts(raw))
    if isinstance(result, Damage):
        assert str(result) and "\n" not in str(result)
        return
    assert not isinstance(result, BaseException), repr(result)
    count, repeats = result
    assert type(count) is int and 0 <= count <= MAX_COUNT
    assert all(type(n) is int and n >= 0 for n in repeats.values())


_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["1-1", "6-6", "3-5", "1", "-1", "", "5", "\x00", "1-1-1-1"]),
)
_json = st.recursive(
    _leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=6) | st.sampled_from(["1-1", "2-3"]), inner, max_size=4),
    ),
    max_leaves=30,
)
_state_like = st.fixed_dictionaries(
    {},
    optional={
        "throw_count": _json,
        "outcome_repeats": st.dictionaries(
            st.sampled_from(["1-1", "2-3", "6-6-6", "x", "", "1--1"]) | st.text(max_size=5),
            _json,
            max_size=5,
        )
        | _json,
        "extra": _json,
    },
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
@example(b"[" * 10_000)
@example(b'{"throw_count": ' + b"9" * 5000 + b"}")
@example(b"\xef\xbb\xbf{}")  # a byte order mark
def test_arbitrary_bytes_give_counts_or_damage(raw: bytes) -> None:
    check_parse(raw)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(_json, _state_like))
def test_json_values_of_any_shape_give_counts_or_damage(value: Any) -> None:
    check_parse(json.dumps(value).encode("utf-8"))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet='[]{}",:\\ 0a1-', max_size=4000))
def test_bracket_and_quote_soup_gives_counts_or_damage(text: str) -> None:
    check_parse(text.encode("utf-8"))


@settings(max_examples=100, deadline=None)
@given(
    st.integers(0, MAX_COUNT),
    st.dictionaries(
        st.lists(st.integers(1, 20), min_size=1, max_size=8).map(lambda f: "-".join(map(str, f))),
        st.integers(0, MAX_COUNT),
        max_size=20,
    ),
)
def test_whatever_the_kiosk_saves_reads_back_the_same(count: int, repeats: dict[str, int]) -> None:
    assert parse_counts(encode_counts(count, repeats)) == (count, repeats)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=500), _json.map(lambda v: json.dumps(v).encode())))
def test_the_kiosk_load_recovers_from_the_copy_or_reads_a_good_file(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "state.json"
        store = StateStore(path)
        store.save_counts(41, {"1-1": 41})
        store.save_counts(42, {"1-1": 42})
        path.write_bytes(raw)
        found = within(lambda: StateStore(path).load_counts())
        assert not isinstance(found, BaseException), repr(found)
        try:
            good = parse_counts(raw)
        except Damage:
            assert found.count == 41 and found.problem and "state.json.prev (41)" in found.problem
            assert len(list(Path(folder).glob("state.json.damaged-*"))) == 1
        else:
            assert (found.count, found.repeats, found.problem) == (*good, None)
        assert math.isfinite(found.count)
