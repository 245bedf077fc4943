"""The v1 codec: documented examples, every drop reason, and fuzzing that it never raises."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from installation.core.throws import DieEvent, DieState
from installation.dice.protocol import (
    DROP_REASONS,
    MAX_FACES,
    MAX_LINE,
    DeviceError,
    Dropped,
    Heartbeat,
    Hello,
    LineSplitter,
    checksum,
    decode,
    encode,
    encode_event,
)


def test_documented_examples_and_their_checksums() -> None:
    # The same lines appear in hardware/PROTOCOL.md; keep them in step.
    assert encode("HELLO", 1, "dice-imu-1.0", 2) == b"$HELLO,1,dice-imu-1.0,2*38\n"
    assert encode("DIE", 1200, 1, "ROLLING", 0) == b"$DIE,1200,1,ROLLING,0*17\n"
    assert encode("DIE", 1200, 1, "LANDED", 3) == b"$DIE,1200,1,LANDED,3*4F\n"
    assert encode("HB", 5000) == b"$HB,5000*23\n"
    assert encode("ERR", "IMU", "no MPU-6050 on I2C") == b"$ERR,IMU,no MPU-6050 on I2C*6A\n"
    assert checksum("HB,5000") == "23"


def test_decodes_every_device_message() -> None:
    assert decode(b"$HELLO,1,dice-imu-1.0,2*38") == Hello(1, "dice-imu-1.0", 2)
    assert decode(b"$DIE,1200,1,LANDED,3*4F") == DieEvent(1, DieState.LANDED, 3, 1200)
    assert decode("$DIE,1200,1,ROLLING,0*17\r") == DieEvent(1, DieState.ROLLING, 0, 1200)
    assert decode(b"$HB,5000*23") == Heartbeat(5000)
    assert decode(b"$ERR,IMU,no MPU-6050 on I2C*6A") == DeviceError("IMU", "no MPU-6050 on I2C")
    assert decode(encode("ERR", "X", "a, b").strip()) == DeviceError("X", "a, b")


def test_lowercase_checksum_is_tolerated() -> None:
    assert decode(b"$DIE,1200,1,LANDED,3*4f") == DieEvent(1, DieState.LANDED, 3, 1200)


def reason(line: bytes, dice: int | None = None) -> str:
    got = decode(line, dice=dice)
    assert isinstance(got, Dropped), got
    assert got.reason in DROP_REASONS
    return got.reason


def frame(body: str) -> bytes:
    return f"${body}*{checksum(body)}".encode()


def test_every_drop_reason() -> None:
    assert reason(b"$DIE,1200,1,LANDED,3*4E") == "checksum"
    assert reason(frame("GPS,1,2")) == "unknown_type"
    assert reason(frame("DIE,1200,1,LANDED")) == "field_count"
    assert reason(frame("HB")) == "field_count"
    assert reason(frame("HELLO,1,fw")) == "field_count"
    assert reason(frame("DIE,1,3,LANDED,2"), dice=2) == "die_index"
    assert reason(frame("DIE,1,0,LANDED,2")) == "die_index"
    assert reason(b"$DIE,1,1,LANDED,\xff*00") == "non_ascii"
    assert reason(b"$HB,1\x00*00") == "non_ascii"
    assert reason(b"$HB," + b"1" * MAX_LINE + b"*00") == "too_long"
    assert reason(b"HB,5000*23") == "framing"
    assert reason(b"$HB,5000") == "framing"
    assert reason(frame("")) == "framing"
    assert reason(frame("DIE,1,1,LANDED,7")) == "face_range"
    assert reason(frame("DIE,1,1,LANDED,0")) == "bad_field"
    assert reason(frame("DIE,1,1,LANDED,x")) == "bad_field"
    assert reason(frame("DIE,1,1,ROLLING,3")) == "bad_field"
    assert reason(frame("DIE,1,1,SPINNING,0")) == "bad_field"
    assert reason(frame("DIE,-1,1,ROLLING,0")) == "bad_field"
    assert reason(frame("DIE,4294967296,1,ROLLING,0")) == "bad_field"
    assert reason(frame("HELLO,one,fw,2")) == "bad_field"
    assert reason(frame("HELLO,1,fw,0")) == "bad_field"


def test_drop_details_say_what_would_be_accepted() -> None:
    got = decode(frame("DIE,1,3,LANDED,2"), dice=2)
    assert isinstance(got, Dropped) and got.detail == "die 3, expected 1..2"
    got = decode(b"$DIE,1200,1,LANDED,3*4E")
    assert isinstance(got, Dropped) and "expected 4F" in got.detail


def test_faces_are_checked_against_the_dice_faces_up_to_the_protocol_limit() -> None:
    """A d20 show accepts 1..20 (issue 13.6: 7..20 were dropped as "expected 1..6"); a d4
    show refuses a 6; nothing beyond MAX_FACES, whatever the caller's faces."""
    assert decode(frame("DIE,1,2,LANDED,20"), faces=20) == DieEvent(2, DieState.LANDED, 20, 1)
    assert decode(frame("DIE,1,1,LANDED,7"), faces=20) == DieEvent(1, DieState.LANDED, 7, 1)
    got = decode(frame("DIE,1,2,LANDED,21"), faces=20)
    assert got == Dropped("face_range", "die 2 LANDED on face 21, expected 1..20")
    got = decode(frame("DIE,1,1,LANDED,6"), faces=4)
    assert isinstance(got, Dropped) and got.detail == "die 1 LANDED on face 6, expected 1..4"
    top = frame(f"DIE,1,1,LANDED,{MAX_FACES}")
    assert decode(top, faces=MAX_FACES) == DieEvent(1, DieState.LANDED, MAX_FACES, 1)
    got = decode(frame(f"DIE,1,1,LANDED,{MAX_FACES + 1}"), faces=10**6)
    assert isinstance(got, Dropped) and got.reason == "face_range"
    assert f"expected 1..{MAX_FACES}; the protocol allows at most {MAX_FACES}" in got.detail
    # the longest DIE line of a d120 stays far inside the line limit
    assert len(frame(f"DIE,{2**32 - 1},64,HANDLING,0")) < MAX_LINE // 2
    assert len(frame(f"DIE,{2**32 - 1},64,LANDED,{MAX_FACES}")) < MAX_LINE // 2


def test_other_protocol_version_is_reported_not_dropped() -> None:
    assert decode(frame("HELLO,2,new-fw,2,extra")) == Hello(2, "new-fw", 0)


def test_time_wraps_at_uint32() -> None:
    e = DieEvent(1, DieState.ROLLING, 0, 2**32 + 5)
    assert decode(encode_event(e).strip()) == DieEvent(1, DieState.ROLLING, 0, 5)


def test_splitter_handles_split_reads_crlf_and_overlong_lines() -> None:
    s = LineSplitter()
    assert s.feed(b"$HB,1") == []
    assert s.feed(b"*00\r\n\n$HB") == [b"$HB,1*00"]
    assert s.feed(b"x" * 500) == []
    too_long = Dropped("too_long", "line longer than 120 bytes")
    assert s.feed(b"x" * 500 + b"\nok\r\n") == [too_long, b"ok"]


def test_splitter_keeps_a_line_of_exactly_the_limit_with_cr() -> None:
    s = LineSplitter()
    line = b"a" * MAX_LINE
    assert s.feed(line + b"\r\n") == [line]
    assert s.feed(line + b"a\n") == [Dropped("too_long", "line longer than 120 bytes")]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400), st.integers(1, 50))
def test_arbitrary_bytes_never_raise(data: bytes, cut: int) -> None:
    s = LineSplitter()
    for i in range(0, len(data), cut):
        for item in s.feed(data[i : i + cut]):
            msg = item if isinstance(item, Dropped) else decode(item, dice=2)
            assert msg is not None
            if isinstance(item, bytes):
                assert len(item) <= MAX_LINE + 1
    assert s.buffered <= MAX_LINE + 1


events = st.builds(
    lambda die, state, face, t: DieEvent(die, state, face if state is DieState.LANDED else 0, t),
    st.integers(1, 8),
    st.sampled_from(list(DieState)),
    st.integers(1, 6),
    st.integers(0, 2**32 - 1),
)
garbage = st.binary(max_size=200).map(lambda b: b.replace(b"\n", b""))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(garbage, events), max_size=12), st.integers(1, 64))
def test_valid_frames_between_garbage_still_decode(
    pairs: list[tuple[bytes, DieEvent]], cut: int
) -> None:
    # Garbage ends with \n so it never runs into the frame that follows it.
    stream = b"".join(g + b"\n" + encode_event(e) for g, e in pairs)
    s = LineSplitter()
    got = []
    for i in range(0, len(stream), cut):
        for item in s.feed(stream[i : i + cut]):
            if isinstance(item, bytes):
                msg = decode(item, dice=8)
                if isinstance(msg, DieEvent):
                    got.append(msg)
    assert got == [e for _, e in pairs]
