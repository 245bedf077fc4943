"""Bounded OSC decoding: every received datagram is read here, never by python-osc.

python-osc 1.10.2 trusts a bundle element's size: a size of -4 walks backwards for
ever (issue 13), and unknown type tags log one warning each on the root logger. So
both receivers (osc/control.py, osc/cluster.py) decode with `decode()`, which walks
bundles and messages itself under `Limits`: datagram size, bundle nesting, elements,
arguments per message, array nesting, and a time budget checked as it goes. Element
sizes must be positive, a multiple of 4 and inside their bundle. Anything else raises
`DatagramError` with a `kind` from KINDS (a fixed set, so counters and the log
limiter stay bounded) and a detail for the log; nothing else is ever raised.
"""

from __future__ import annotations

import logging
import math
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from installation.errors import OscError

BUNDLE = b"#bundle\x00"
IMMEDIATELY = 1  # the NTP timetag meaning "now"
NTP_TO_UNIX_S = 2_208_988_800  # seconds from 1900 (NTP) to 1970 (Unix)

KINDS = (
    "too_large",  # longer than Limits.max_bytes (dropped unread)
    "not_osc",  # neither '/' (message) nor '#bundle' at the start of a datagram or element
    "truncated",  # a string, number, blob or bundle header runs past its end
    "bad_size",  # a bundle element size <= 0, not a multiple of 4, or past the bundle
    "too_deep",  # bundles nested deeper than Limits.max_depth
    "too_many_elements",  # more bundle elements than Limits.max_elements, at all depths
    "too_many_args",  # more arguments than Limits.max_args in one message
    "bad_type_tag",  # no ',' type tag, an unknown type, or unbalanced/deep arrays
    "bad_string",  # an address or string that is not UTF-8
    "trailing_bytes",  # bytes left after a message's last argument
    "over_budget",  # decoding took longer than Limits.budget_s
)


class DatagramError(OscError, ValueError):
    """A datagram outside the bounds. `kind` is one of KINDS; `detail` is for the log."""

    def __init__(self, kind: str, detail: str) -> None:
        assert kind in KINDS, kind
        self.kind = kind
        self.detail = detail
        super().__init__(f"{kind}: {detail}")


@dataclass(frozen=True)
class Limits:
    """Bounds for one datagram. The defaults suit remote control; see CONTROL, CLUSTER."""

    max_bytes: int = 8192
    max_depth: int = 4  # a bundle inside a bundle is depth 2
    max_elements: int = 32  # bundle elements (messages and bundles) in the whole datagram
    max_args: int = 64  # per message; an array counts, and so does each value in it
    max_array_depth: int = 4
    budget_s: float = 0.05

    def __post_init__(self) -> None:
        for name in ("max_bytes", "max_depth", "max_elements", "max_args", "max_array_depth"):
            value = getattr(self, name)
            if not 1 <= value <= 65536:
                raise ValueError(f"Limits.{name} must be 1..65536, got {value!r}")
        if not 0 < self.budget_s <= 10:
            raise ValueError(f"Limits.budget_s must be 0..10 seconds, got {self.budget_s!r}")


CONTROL = Limits()
CLUSTER = Limits(max_bytes=4096, max_depth=1, max_elements=4, max_args=16, max_array_depth=1)


class TimeTag(NamedTuple):
    """A 't' argument: the raw 64-bit NTP value."""

    ntp: int


class Midi(NamedTuple):
    """An 'm' argument: port id, status byte, data1, data2."""

    port: int
    status: int
    data1: int
    data2: int


@dataclass(frozen=True)
class Message:
    """One decoded message. `timetag` is the raw NTP timetag of the innermost bundle
    around it, None for a plain message (no bundle)."""

    address: str
    args: tuple[Any, ...]
    timetag: int | None = None


def timetag_to_unix(ntp: int) -> float:
    """A raw NTP timetag as Unix seconds (0.0 for 'immediately', as python-osc does)."""
    if ntp == IMMEDIATELY:
        return 0.0
    return ntp / 2**32 - NTP_TO_UNIX_S


def decode(
    data: bytes, limits: Limits = CONTROL, *, clock: Callable[[], float] = time.monotonic
) -> list[Message]:
    """Every message in a datagram, in order; DatagramError for anything outside `limits`."""
    if len(data) > limits.max_bytes:
        raise DatagramError("too_large", f"{len(data)} bytes (limit {limits.max_bytes})")
    return _Walker(bytes(data), limits, clock).datagram()


_FIXED: dict[str, tuple[str, int]] = {
    "i": (">i", 4),
    "h": (">q", 8),
    "f": (">f", 4),
    "d": (">d", 8),
    "r": (">I", 4),
    "c": (">I", 4),
    "t": (">Q", 8),
    "m": (">4B", 4),
}
_CONSTANTS: dict[str, Any] = {"T": True, "F": False, "N": None, "I": math.inf}


class _Walker:
    """One pass over one datagram. Every loop advances through the bytes or the type
    tag and checks the element, argument and time bounds, so the work is linear in the
    datagram's size and stops at the first bound crossed."""

    def __init__(self, data: bytes, limits: Limits, clock: Callable[[], float]) -> None:
        self.data = data
        self.limits = limits
        self.clock = clock
        self.deadline = clock() + limits.budget_s
        self.elements = 0
        self.out: list[Message] = []

    def datagram(self) -> list[Message]:
        end = len(self.data)
        if self.data.startswith(BUNDLE):
            self._bundle(0, end, 1)
        elif self.data.startswith(b"/"):
            self._message(0, end, None)
        else:
            raise DatagramError("not_osc", f"starts with {self.data[:8]!r}")
        return self.out

    def _in_time(self) -> None:
        if self.clock() > self.deadline:
            raise DatagramError("over_budget", f"not decoded within {self.limits.budget_s} s")

    def _bundle(self, start: int, end: int, depth: int) -> None:
        if depth > self.limits.max_depth:
            raise DatagramError("too_deep", f"bundles nested over {self.limits.max_depth} deep")
        if end - start < 16:
            raise DatagramError("truncated", f"bundle header of {end - start} bytes (needs 16)")
        (timetag,) = struct.unpack_from(">Q", self.data, start + 8)
        pos = start + 16
        while pos < end:
            self._in_time()
            if end - pos < 4:
                raise DatagramError("truncated", f"{end - pos} bytes where an element size goes")
            (size,) = struct.unpack_from(">i", self.data, pos)
            pos += 4
            if size <= 0 or size % 4 or size > end - pos:
                raise DatagramError(
                    "bad_size",
                    f"element size {size} at byte {pos - 4} (needs a positive multiple "
                    f"of 4 up to the {end - pos} bytes left)",
                )
            self.elements += 1
            if self.elements > self.limits.max_elements:
                raise DatagramError(
                    "too_many_elements", f"over {self.limits.max_elements} bundle elements"
                )
            if self.data.startswith(BUNDLE, pos, pos + size):
                self._bundle(pos, pos + size, depth + 1)
            elif self.data.startswith(b"/", pos, pos + size):
                self._message(pos, pos + size, timetag)
            else:
                raise DatagramError("not_osc", f"element at byte {pos} is neither '/' nor bundle")
            pos += size

    def _string(self, pos: int, end: int, what: str) -> tuple[str, int]:
        nul = self.data.find(b"\x00", pos, end)
        if nul < 0:
            raise DatagramError("truncated", f"{what} at byte {pos} has no end")
        after = pos + (nul - pos) // 4 * 4 + 4  # the NUL plus padding to 4 bytes
        if after > end:
            raise DatagramError("truncated", f"{what} at byte {pos} lacks its padding")
        try:
            return self.data[pos:nul].decode("utf-8"), after
        except UnicodeDecodeError:
            raise DatagramError("bad_string", f"{what} at byte {pos} is not UTF-8") from None

    def _message(self, start: int, end: int, timetag: int | None) -> None:
        self._in_time()
        address, pos = self._string(start, end, "address")
        if pos == end:  # no type tag: a message without arguments (python-osc allows it)
            self.out.append(Message(address, (), timetag))
            return
        tags, pos = self._string(pos, end, "type tag")
        if not tags.startswith(","):
            raise DatagramError("bad_type_tag", f"type tag {tags[:16]!r} lacks the ','")
        args: list[Any] = []
        stack: list[list[Any]] = [args]
        count = 0
        for tag in tags[1:]:
            if tag == "]":
                if len(stack) < 2:
                    raise DatagramError("bad_type_tag", "']' without '['")
                done = stack.pop()
                stack[-1].append(done)
                continue
            count += 1  # an array counts as one argument, and so does each value in it
            if count > self.limits.max_args:
                raise DatagramError("too_many_args", f"over {self.limits.max_args} arguments")
            if tag == "[":
                if len(stack) > self.limits.max_array_depth:
                    raise DatagramError("bad_type_tag", "arrays nested too deep")
                stack.append([])
                continue
            value, pos = self._argument(tag, pos, end)
            stack[-1].append(value)
        if len(stack) != 1:
            raise DatagramError("bad_type_tag", "'[' without ']'")
        if pos != end:
            raise DatagramError("trailing_bytes", f"{end - pos} bytes after the last argument")
        self.out.append(Message(address, tuple(args), timetag))

    def _argument(self, tag: str, pos: int, end: int) -> tuple[Any, int]:
        if tag in _CONSTANTS:
            return _CONSTANTS[tag], pos
        if tag in ("s", "S"):
            return self._string(pos, end, "string argument")
        if tag == "b":
            if end - pos < 4:
                raise DatagramError("truncated", f"blob size at byte {pos}")
            (size,) = struct.unpack_from(">i", self.data, pos)
            padded = (size + 3) // 4 * 4
            if size < 0 or padded > end - pos - 4:
                raise DatagramError("truncated", f"blob of {size} bytes at byte {pos}")
            return self.data[pos + 4 : pos + 4 + size], pos + 4 + padded
        if tag not in _FIXED:
            raise DatagramError("bad_type_tag", f"unknown type {tag!r}")
        fmt, size = _FIXED[tag]
        if end - pos < size:
            raise DatagramError("truncated", f"'{tag}' argument at byte {pos}")
        values = struct.unpack_from(fmt, self.data, pos)
        if tag == "m":
            return Midi(*values), pos + size
        if tag == "t":
            return TimeTag(values[0]), pos + size
        if tag == "c":
            if values[0] > 0x10FFFF or 0xD800 <= values[0] <= 0xDFFF:
                raise DatagramError("bad_string", f"char {values[0]} is not a character")
            return chr(values[0]), pos + size
        return values[0], pos + size


class KindLog:
    """Log a kind of event once, then at most once per `every_s` with how many were
    held back. Keyed by kind (a fixed set), never by text with random parts, so both
    the log and this table stay bounded."""

    def __init__(
        self,
        logger: logging.Logger,
        prefix: str,
        every_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.prefix = prefix
        self.every_s = every_s
        self.clock = clock
        self._last: dict[str, tuple[float, int]] = {}

    def __call__(self, kind: str, detail: str) -> bool:
        """Log now (True) or hold back and count (False)."""
        now = self.clock()
        last, held = self._last.get(kind, (-math.inf, 0))
        if now - last < self.every_s:
            self._last[kind] = (last, held + 1)
            return False
        self._last[kind] = (now, 0)
        more = f" (and {held} more since the last report)" if held else ""
        self.logger.warning("%s %s: %s%s", self.prefix, kind.replace("_", " "), detail, more)
        return True
