"""Reading small JSON files the installation wrote, without trusting what is there now.

state.json and status.json may be found damaged: empty, cut short, overwritten with
garbage, replaced by a FIFO (open() would block forever), a folder, a link to /dev/zero
(read() never ends) or a file nested 10,000 deep (json recurses once per level). So a
file is read only if it is a regular file within a size limit, opened with O_NONBLOCK
(a FIFO swapped in after the stat cannot block the open) and read up to its limit plus
one byte; its nesting is checked before json sees it. Time and memory are bounded by
the limit. Every refusal is a Damage whose text completes "<file> ...".
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any

KIB, MIB = 1024, 1024 * 1024
# Everything up to the next bracket outside a string, then that bracket (or the end).
# Possessive, and a string's closing quote is optional: every match succeeds where it
# starts, so nothing is scanned twice (a retry at each position would be quadratic).
_TO_BRACKET = re.compile(rb'(?:[^"\[\]{}]++|"(?:[^"\\]++|\\.)*+"?)*+([\[\]{}]|\Z)', re.DOTALL)
_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class Damage(Exception):
    """Why a file cannot be used: the text completes '<file> ...' ('is empty')."""


def size_text(n: int) -> str:
    """1048576 -> '1 MiB', 5000 -> '4.88 KiB'."""
    for unit, size in (("GiB", MIB * 1024), ("MiB", MIB), ("KiB", KIB)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n} bytes"


def _kind(mode: int) -> str:
    return next((word for test, word in _KINDS if test(mode)), "not a regular file")


def _check(st: os.stat_result, limit: int) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise Damage(f"is {_kind(st.st_mode)}, not a regular file")
    if st.st_size > limit:
        raise Damage(f"is {size_text(st.st_size)}, over the limit of {size_text(limit)}")


def read_bounded(path: Path, limit: int) -> bytes:
    """The bytes of the regular file at `path` (symlinks followed), at most `limit` of
    them. FileNotFoundError when nothing is there (callers treat that apart); Damage for
    anything else: not a regular file, too big, unreadable. Never blocks on a FIFO or a
    device."""
    try:
        try:
            _check(os.stat(path), limit)
        except Damage as e:
            real = os.path.realpath(path)  # say where a symbolic link leads
            shown_real = real if real.isprintable() else ascii(real)  # no escapes in a log line
            link = f" (it leads to {shown_real})" if real != os.path.abspath(path) else ""
            raise Damage(f"{e}{link}") from None
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as e:  # ValueError: a NUL character in the path
        raise Damage(f"cannot be opened ({getattr(e, 'strerror', None) or e})") from None
    try:
        _check(os.fstat(fd), limit)  # what was opened, not what was there before
        os.set_blocking(fd, True)  # a regular file: reads never wait anyway
        with os.fdopen(fd, "rb") as f:
            fd = -1
            data = f.read(limit + 1)
    except OSError as e:
        raise Damage(f"cannot be read ({e.strerror or e})") from None
    finally:
        if fd >= 0:
            os.close(fd)
    if len(data) > limit:  # it grew while being read
        raise Damage(f"has more than {size_text(limit)}, over the limit")
    return data


def check_nesting(raw: bytes, max_depth: int, max_containers: int) -> None:
    """Damage when the JSON text nests lists and objects more than `max_depth` deep or
    holds more than `max_containers` of them, before json recurses into it. Linear: one
    regex step per bracket outside strings (strings are skipped inside the regex engine),
    and it stops at the first limit passed."""
    if raw.count(b"[") + raw.count(b"{") <= max_depth:  # the usual case: nothing to walk
        return
    depth = opened = 0
    for match in _TO_BRACKET.finditer(raw):
        bracket = match.group(1)
        if not bracket:  # the end of the text
            return
        if bracket in b"[{":
            depth, opened = depth + 1, opened + 1
            if depth > max_depth:
                raise Damage(f"nests lists or objects more than {max_depth} deep")
            if opened > max_containers:
                raise Damage(f"holds more than {max_containers} lists or objects")
        elif depth == 0:
            return  # a closing bracket too many: json refuses it without recursing
        else:
            depth -= 1


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def loads_bounded(
    raw: bytes, max_depth: int, max_containers: int, *, constants: bool = False
) -> Any:
    """The JSON value in `raw`, or Damage saying what is wrong in words. `constants`:
    accept NaN and Infinity (Python writes them; strict JSON has none)."""
    if not raw.strip():
        raise Damage("is empty" if not raw else "holds only white space")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise Damage(f"is not UTF-8 text (byte {e.start} is 0x{raw[e.start]:02x})") from None
    check_nesting(raw, max_depth, max_containers)
    try:
        return json.loads(text) if constants else json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as e:
        cut = e.pos >= len(text.rstrip())
        what = "ends too early (cut short)" if cut else "is not valid JSON"
        raise Damage(f"{what}: {e.msg} at line {e.lineno}, column {e.colno}") from None
    except (ValueError, RecursionError) as e:  # a 5,000-digit number; RecursionError: a bug
        raise Damage(f"is not valid JSON: {e}") from None


def shown(value: object, limit: int = 40) -> str:
    """A value as a short, printable text for a message: '"5" (a string)', 'a list of 2'."""
    if isinstance(value, dict):
        return f"an object of {len(value)} keys"
    if isinstance(value, list):
        return f"a list of {len(value)} items"
    text = json.dumps(value, ensure_ascii=True, default=str)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    kind = {str: "a string", bool: "true/false", float: "a decimal number"}.get(type(value))
    return f"{text} ({kind})" if kind else text
