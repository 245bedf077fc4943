"""The bounded OSC decoder on raw bytes: agrees with python-osc on valid input, names
every kind of bad input, and never raises anything but DatagramError (fuzzed)."""

from __future__ import annotations

import logging
import math
import struct
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder, build_msg

from installation.osc import datagrams as D

MINUS_FOUR = bytes.fromhex("2362756e646c65000000000000000001fffffffc")  # issue 13, item 1
HEADER = b"#bundle\x00" + struct.pack(">Q", 1)
PING = build_msg("/installation/ping", []).dgram


def element(content: bytes, size: int | None = None) -> bytes:
    return struct.pack(">i", len(content) if size is None else size) + content


def bundle(*elements: bytes) -> bytes:
    return HEADER + b"".join(elements)


def nested(depth: int, inner: bytes) -> bytes:
    data = inner
    for _ in range(depth):
        data = bundle(element(data))
    return data


# -- valid input: the same values python-osc reads ------------------------------------------
osc_args = st.lists(
    st.one_of(
        st.integers(-(2**31), 2**31 - 1),
        st.integers(2**31, 2**63 - 1),
        st.floats(allow_nan=False, width=32),
        # OSC strings are UTF-8: lone surrogates cannot be encoded (python-osc refuses them)
        st.text(
            st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)),
            max_size=20,
        ),
        st.binary(min_size=1, max_size=20),  # python-osc cannot build an empty blob
        st.booleans(),
        st.none(),
    ),
    max_size=12,
)


@settings(max_examples=200, deadline=None)
@given(osc_args)
def test_messages_decode_as_python_osc_reads_them(args: list[Any]) -> None:
    builder = OscMessageBuilder("/installation/ping")
    for a in args:
        builder.add_arg(a)
    data = builder.build().dgram
    (got,) = D.decode(data)
    assert got == D.Message("/installation/ping", tuple(OscMessage(data).params), None)


def test_every_supported_type_and_arrays() -> None:
    data = (
        b"/a\x00\x00,ihfdsbTFNIcrmt[i[s]]\x00\x00\x00"
        + struct.pack(">iqfd", -7, 2**40, 0.5, 1.25)
        + b"hi\x00\x00"
        + element(b"xyz\x00")
        + struct.pack(">II4BQ", ord("é"), 0xFF00FF00, 1, 2, 3, 4, 5)
        + struct.pack(">i", 9)
        + b"in\x00\x00"
    )
    (m,) = D.decode(data)
    assert m.args == (
        -7,
        2**40,
        0.5,
        1.25,
        "hi",
        b"xyz\x00",
        True,
        False,
        None,
        math.inf,
        "é",
        0xFF00FF00,
        D.Midi(1, 2, 3, 4),
        D.TimeTag(5),
        [9, ["in"]],
    )


def test_bundles_flatten_in_order_with_their_timetags() -> None:
    outer = OscBundleBuilder(IMMEDIATELY)
    outer.add_content(build_msg("/a", [1]))
    inner = OscBundleBuilder(1_800_000_000.5)
    inner.add_content(build_msg("/b", ["x"]))
    outer.add_content(inner.build())
    outer.add_content(build_msg("/c", []))
    got = D.decode(outer.build().dgram)
    assert [(m.address, m.args) for m in got] == [("/a", (1,)), ("/b", ("x",)), ("/c", ())]
    assert got[0].timetag == got[2].timetag == D.IMMEDIATELY
    assert got[1].timetag is not None
    assert D.timetag_to_unix(got[1].timetag) == pytest.approx(1_800_000_000.5, abs=1e-6)
    assert D.timetag_to_unix(D.IMMEDIATELY) == 0.0


# -- every kind of bad input -----------------------------------------------------------------
def many(count: int) -> bytes:
    return bundle(*[element(b"/a\x00\x00")] * count)


BAD: dict[str, tuple[bytes, str]] = {
    "the -4 bundle": (MINUS_FOUR, "bad_size"),
    "size -1": (bundle(element(PING, -1)), "bad_size"),
    "size -2**31": (bundle(element(PING, -(2**31))), "bad_size"),
    "size 0": (bundle(element(b"", 0)), "bad_size"),
    "size 2**31-1": (bundle(element(PING, 2**31 - 1)), "bad_size"),
    "size past the end": (bundle(element(PING, len(PING) + 4)), "bad_size"),
    "size not a multiple of 4": (bundle(element(PING + b"\x00", len(PING) + 1)), "bad_size"),
    "nested 5 deep": (nested(5, PING), "too_deep"),
    "nested 1000 deep": (nested(1000, PING)[:8000], "bad_size"),
    "33 elements": (many(33), "too_many_elements"),
    "2000 elements": (many(2000), "too_large"),
    "header cut": (HEADER[:12], "truncated"),
    "element size cut": (bundle(b"\x00\x00"), "truncated"),
    "garbage after #bundle": (bundle(element(b"\x93\x11\x00\x7f")), "not_osc"),
    "plain garbage": (b"\x00\x01\x02\x03hello", "not_osc"),
    "non-UTF-8 address": (b"/inst\xff\xfe\x00\x00,ii\x00" + struct.pack(">ii", 1, 2), "bad_string"),
    "non-UTF-8 in a bundle": (bundle(element(b"/\xc3\x28\x00")), "bad_string"),
    "non-UTF-8 string": (b"/a\x00\x00,s\x00\x00\xff\xff\x00\x00", "bad_string"),
    "address without NUL": (b"/abc", "truncated"),
    "int cut": (b"/installation/throw\x00,ii\x00\x00\x00\x00\x01", "truncated"),
    "blob of -4 bytes": (b"/a\x00\x00,b\x00\x00" + struct.pack(">i", -4), "truncated"),
    "blob past the end": (
        b"/a\x00\x00,b\x00\x00" + struct.pack(">i", 99) + b"ab\x00\x00",
        "truncated",
    ),
    "no comma": (b"/a\x00\x00ii\x00\x00" + struct.pack(">ii", 1, 2), "bad_type_tag"),
    "unknown type": (b"/a\x00\x00,x\x00\x00", "bad_type_tag"),
    "arrays 6 deep": (b"/a\x00\x00,[[[[[[]]]]]]\x00\x00\x00", "bad_type_tag"),
    "unclosed array": (b"/a\x00\x00,[\x00\x00", "bad_type_tag"),
    "stray ]": (b"/a\x00\x00,]\x00\x00", "bad_type_tag"),
    "4000 Nils": (b"/a\x00\x00," + b"N" * 4000 + b"\x00\x00\x00", "too_many_args"),
    "trailing bytes": (PING + b"\x00\x00\x00\x00", "trailing_bytes"),
    "bad char": (b"/a\x00\x00,c\x00\x00" + struct.pack(">I", 0xD800), "bad_string"),
    "too large": (b"/a\x00\x00,s\x00\x00" + b"x" * 9000 + b"\x00" * 4, "too_large"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_datagrams_raise_their_kind(name: str) -> None:
    data, kind = BAD[name]
    with pytest.raises(D.DatagramError) as caught:
        D.decode(data)
    assert caught.value.kind == kind
    assert isinstance(caught.value, ValueError)


def test_thousands_of_elements_stop_at_the_element_limit() -> None:
    with pytest.raises(D.DatagramError, match="too_many_elements: over 32 bundle elements"):
        D.decode(many(5000), D.Limits(max_bytes=65536))


def test_a_bad_element_rejects_the_whole_bundle() -> None:
    """No partial effects: the good ping before the bad element is not returned."""
    with pytest.raises(D.DatagramError):
        D.decode(bundle(element(PING), element(PING, -4)))


def test_the_time_budget_stops_a_slow_decode() -> None:
    ticks = iter(range(1000))
    limits = D.Limits(budget_s=2.5)
    with pytest.raises(D.DatagramError, match="over_budget"):
        D.decode(many(8), limits, clock=lambda: float(next(ticks)))
    assert len(D.decode(many(8), limits, clock=lambda: 0.0)) == 8


def test_limits_are_checked() -> None:
    with pytest.raises(ValueError, match=r"Limits.max_depth must be 1..65536, got 0"):
        D.Limits(max_depth=0)
    with pytest.raises(ValueError, match="budget_s"):
        D.Limits(budget_s=0)


# -- fuzzing: any bytes at all ----------------------------------------------------------------
def crafted() -> st.SearchStrategy[bytes]:
    """Bundles of random element sizes and contents: where the walker's decisions are."""
    chunk = st.one_of(
        st.binary(max_size=24),
        st.just(PING),
        st.just(b"#bundle\x00" + b"\x00" * 8),
        st.builds(
            lambda t: b"/a\x00\x00," + t.encode() + b"\x00", st.text("ihfdsbTFN[]m", max_size=9)
        ),
    )
    size = st.one_of(st.integers(-(2**31), 2**31 - 1), st.integers(-8, 40))
    part = st.builds(lambda s, c: struct.pack(">i", s) + c, size, chunk)
    return st.builds(lambda parts: HEADER + b"".join(parts), st.lists(part, max_size=8))


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(st.binary(max_size=200), crafted(), st.builds(nested, st.integers(0, 8), crafted()))
)
def test_fuzz_only_datagram_errors_and_results_within_bounds(data: bytes) -> None:
    limits = D.CONTROL
    try:
        got = D.decode(data, limits)
    except D.DatagramError as e:
        assert e.kind in D.KINDS
        return
    assert len(got) <= limits.max_elements
    for m in got:
        assert m.address.startswith("/")
        assert len(m.args) <= limits.max_args


# -- the log limiter ------------------------------------------------------------------------
def test_kind_log_is_limited_by_kind_not_by_text(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    say = D.KindLog(logging.getLogger("t"), "OSC control", every_s=30.0, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="t"):
        logged = [say("malformed_bad_size", f"from 10.0.0.{i}") for i in range(100)]
        logged.append(say("too_large", "x"))
        now[0] = 31.0
        logged.append(say("malformed_bad_size", "again"))
    assert logged.count(True) == 3
    assert [r.getMessage() for r in caplog.records] == [
        "OSC control malformed bad size: from 10.0.0.0",
        "OSC control too large: x",
        "OSC control malformed bad size: again (and 99 more since the last report)",
    ]
