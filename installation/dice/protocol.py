"""Dice serial protocol v1: a pure codec that never raises (see hardware/PROTOCOL.md).

Bytes go into a LineSplitter, which yields complete lines (or a Dropped for a line
that was too long); `decode` turns one line into a DieEvent, Hello, Heartbeat,
DeviceError or Dropped(reason). Nothing here touches a port, so the fuzz tests
feed it raw bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

from installation.core.throws import DieEvent, DieState

PROTOCOL_VERSION = 1
MAX_LINE = 120  # bytes, not counting the \r\n
DEFAULT_BAUD = 115200
MIN_BAUD, MAX_BAUD = 50, 4_000_000  # what termios and common USB serial chips can do
MAX_DICE = 64  # dice on one port, as a HELLO may declare
FACES = 6  # faces per die when the caller does not say (the show's dice.faces does)
# The most faces a die may report. 120 is the largest fair die made (the d120
# disdyakis triacontahedron); three digits keep every DIE line far below MAX_LINE.
# The reference firmware reads a cube (1..6); firmware for other dice may go this far.
MAX_FACES = 120

# Every reason a line can be dropped, in the order the status JSON lists them.
DROP_REASONS = (
    "checksum",  # HH does not match the XOR of the body
    "unknown_type",  # a well-formed frame of a type the host does not know
    "field_count",  # a known type with too few or too many fields
    "die_index",  # die 0, or above the dice count the device (or show) declared
    "non_ascii",  # bytes above 0x7E or control bytes
    "too_long",  # more than MAX_LINE bytes before the \n
    "framing",  # no leading $, no *HH, or an empty type
    "bad_field",  # a field that is not what its type says (LANDED on 0, state SPINNING ...)
    "face_range",  # a LANDED face above the dice's faces (the show's dice.faces, MAX_FACES)
)

HOST_HELLO = b"?HELLO\n"
HOST_STATE = b"?STATE\n"


@dataclass(frozen=True)
class Hello:
    version: int
    firmware: str
    dice: int


@dataclass(frozen=True)
class Heartbeat:
    t_ms: int


@dataclass(frozen=True)
class DeviceError:
    code: str
    text: str


@dataclass(frozen=True)
class Dropped:
    reason: str  # one of DROP_REASONS
    detail: str = ""


Message = DieEvent | Hello | Heartbeat | DeviceError | Dropped

_FIELDS = {"HELLO": 3, "DIE": 4, "HB": 1, "ERR": 2}
_U32 = 2**32


def checksum(body: str | bytes) -> str:
    """NMEA 0183 checksum: XOR of every byte between $ and *, two uppercase hex digits."""
    data = body.encode("ascii") if isinstance(body, str) else body
    x = 0
    for b in data:
        x ^= b
    return f"{x:02X}"


def encode(kind: str, *fields: object) -> bytes:
    """One framed line: encode("DIE", 1200, 1, "LANDED", 3) -> b'$DIE,1200,1,LANDED,3*4F\\n'."""
    body = ",".join([kind, *(str(f) for f in fields)])
    return f"${body}*{checksum(body)}\n".encode("ascii")


def encode_event(e: DieEvent) -> bytes:
    return encode("DIE", e.t_ms % _U32, e.die, e.state.value, e.face)


class LineSplitter:
    """Incremental \\n splitter with a hard length cap, so noise can never grow the buffer."""

    def __init__(self, max_line: int = MAX_LINE) -> None:
        self.max_line = max_line
        self._buf = bytearray()
        self._overflow = False

    @property
    def buffered(self) -> int:
        """Bytes held for an unfinished line (never more than max_line + 1)."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[bytes | Dropped]:
        """Complete lines (without \\r\\n) found so far; an over-long line becomes one Dropped."""
        out: list[bytes | Dropped] = []
        *complete, tail = data.split(b"\n")
        for chunk in complete:
            out.extend(self._end_line(chunk))
        self._append(tail)
        return out

    def _end_line(self, chunk: bytes) -> list[bytes | Dropped]:
        self._append(chunk)
        line, over = bytes(self._buf), self._overflow
        self._buf.clear()
        self._overflow = False
        if line.endswith(b"\r"):
            line = line[:-1]
        if over or len(line) > self.max_line:
            return [Dropped("too_long", f"line longer than {self.max_line} bytes")]
        return [line] if line else []

    def _append(self, data: bytes) -> None:
        if self._overflow:
            return
        self._buf += data
        # +1 leaves room for a \r that belongs to a line of exactly max_line bytes
        if len(self._buf) > self.max_line + 1:
            self._buf.clear()
            self._overflow = True


def decode(line: bytes | str, dice: int | None = None, faces: int = FACES) -> Message:
    """Decode one line (no \\n). Never raises.

    `dice` bounds die numbers when known; a LANDED face must be 1..`faces` (the show's
    faces per die; never more than MAX_FACES, whatever the caller passes).
    """
    try:
        return _decode(line, dice, faces)
    except Exception as e:  # a codec bug must not take the reader down
        return Dropped("framing", f"decoder error {type(e).__name__}")


def _decode(line: bytes | str, dice: int | None, faces: int) -> Message:
    raw = line.encode("utf-8", "replace") if isinstance(line, str) else bytes(line)
    if raw.endswith(b"\r"):
        raw = raw[:-1]
    if len(raw) > MAX_LINE:
        return Dropped("too_long", f"{len(raw)} bytes, at most {MAX_LINE}")
    if any(b < 0x20 or b > 0x7E for b in raw):
        return Dropped("non_ascii", "bytes outside printable ASCII")
    text = raw.decode("ascii")
    star = text.rfind("*")
    if not text.startswith("$") or star < 0 or len(text) - star != 3:
        return Dropped("framing", f"expected $TYPE,...*HH, got {_short(text)!r}")
    body, given = text[1:star], text[star + 1 :].upper()
    if given != checksum(body):
        return Dropped("checksum", f"{_short(text)!r}: checksum {given}, expected {checksum(body)}")
    kind, *fields = body.split(",")
    if not kind:
        return Dropped("framing", "empty type")
    if kind not in _FIELDS:
        return Dropped("unknown_type", f"type {_short(kind)!r}; known: {', '.join(_FIELDS)}")
    if kind == "HELLO":
        return _hello(fields)
    if kind == "ERR" and len(fields) > 2:  # a fault text may hold commas: keep it whole
        fields = [fields[0], ",".join(fields[1:])]
    if len(fields) != _FIELDS[kind]:
        return Dropped("field_count", f"{kind} has {len(fields)} fields, expected {_FIELDS[kind]}")
    if kind == "HB":
        t = _int(fields[0], 0, _U32 - 1)
        return Heartbeat(t) if t is not None else Dropped("bad_field", f"HB time {fields[0]!r}")
    if kind == "ERR":
        return DeviceError(fields[0], fields[1])
    return _die(fields, dice, faces)


def _hello(fields: list[str]) -> Message:
    version = _int(fields[0], 0, 9999) if fields else None
    if version is None:
        return Dropped("bad_field", f"HELLO version {fields[0] if fields else ''!r}")
    if version != PROTOCOL_VERSION:
        # Another version may have another layout: keep what we can, the reader reports it.
        return Hello(version, fields[1] if len(fields) > 1 else "", 0)
    if len(fields) != _FIELDS["HELLO"]:
        return Dropped("field_count", f"HELLO has {len(fields)} fields, expected 3")
    count = _int(fields[2], 1, MAX_DICE)
    if count is None:
        return Dropped("bad_field", f"HELLO dice count {fields[2]!r}, expected 1..{MAX_DICE}")
    return Hello(version, fields[1], count)


def _die(fields: list[str], dice: int | None, faces: int) -> Message:
    t, die, state_s, face_s = fields
    t_ms, n, face = _int(t, 0, _U32 - 1), _int(die, 0, 9999), _int(face_s, 0, _U32 - 1)
    if t_ms is None or n is None or face is None:
        return Dropped("bad_field", f"DIE fields {','.join(fields)!r}: expected numbers")
    if n < 1 or (dice is not None and n > dice):
        limit = f"1..{dice}" if dice is not None else "1 or more"
        return Dropped("die_index", f"die {n}, expected {limit}")
    try:
        state = DieState(state_s)
    except ValueError:
        known = "|".join(s.value for s in DieState)
        return Dropped("bad_field", f"die state {_short(state_s)!r}, expected {known}")
    if state is DieState.LANDED and face == 0:
        return Dropped("bad_field", f"die {n} LANDED with face 0, expected a face")
    top = min(max(faces, 1), MAX_FACES)
    if state is DieState.LANDED and face > top:
        beyond = f"; the protocol allows at most {MAX_FACES}" if face > MAX_FACES else ""
        return Dropped("face_range", f"die {n} LANDED on face {face}, expected 1..{top}{beyond}")
    if state is not DieState.LANDED and face != 0:
        return Dropped("bad_field", f"{state.value} face {face}, expected 0")
    return DieEvent(n, state, face, t_ms)


def _int(s: str, lo: int, hi: int) -> int | None:
    """A plain decimal in lo..hi, or None. Rejects '+1', ' 1', '1_0' that int() would take."""
    if not s.isdigit() or not s.isascii() or len(s) > 10:
        return None
    v = int(s)
    return v if lo <= v <= hi else None


def _short(s: str, n: int = 40) -> str:
    return s if len(s) <= n else s[:n] + "..."
