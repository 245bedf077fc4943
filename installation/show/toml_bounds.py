"""TOML parsing with bounds, so no show.toml can crash or stall the loader.

tomllib recurses once per nested array or inline table (5,000 `[` end in a
RecursionError), takes quadratic time on long dotted keys (20,000 parts: 11 s),
refuses integers over 4,300 digits with a bare ValueError and accepts integers of any
size in hex (whose repr then raises). A linear pre-scan bounds nesting and key parts
before tomllib sees the text; a walk over the result bounds depth and keeps integers
to TOML's own 64-bit range.
"""

from __future__ import annotations

import re
import sys
import tomllib
from typing import Any

Loc = tuple[str | int, ...]
MAX_BRACKETS = 16  # nested [ and { in one value; the schema needs 3 (osc args lists)
MAX_KEY_PARTS = 16  # parts of one dotted key or table header (a.b.c)
MAX_DEPTH = 24  # tables, keys and lists together; the schema needs 6
INT_MIN, INT_MAX = -(2**63), 2**63 - 1  # TOML: integers are 64-bit signed
_TOML_POS = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_LONG_NUMBER = re.compile(r"[0-9][0-9_]{4299,}")
_DIGITS_LIMIT = getattr(sys, "get_int_max_str_digits", lambda: 4300)() or 4300


class TomlProblem(Exception):
    """A TOML file that cannot be used: `line` (or None) and a curator-facing message."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _string_end(text: str, i: int) -> int:
    """The index just after the string starting at text[i] (or len(text) if unclosed)."""
    quote = text[i]
    escapes = quote == '"'
    close = quote * 3 if text.startswith(quote * 3, i) else quote
    j, n = i + len(close), len(text)
    while j < n:
        c = text[j]
        if escapes and c == "\\":
            j += 2
        elif text.startswith(close, j):
            j += len(close)
            if len(close) == 3:  # up to two quotes may end the content before the closing three
                for _ in range(2):
                    if j < n and text[j] == quote:
                        j += 1
            return j
        elif c == "\n" and len(close) == 1:
            return j  # an unclosed one-line string: tomllib reports it
        else:
            j += 1
    return n


def prescan(text: str) -> tuple[int, str] | None:
    """(line, message) for the first place deeper than the limits, or None. Linear in
    the text, never raises; on text that is not TOML it may stop early (tomllib then
    reports the real error)."""
    stack: list[str] = []  # open '[' (array) and '{' (inline table) inside values
    in_key, parts, line, i, n = True, 1, 1, 0, len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            if not stack:
                in_key, parts = True, 1
        elif c == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        elif c in "\"'":
            end = _string_end(text, i)
            line += text.count("\n", i, end)
            i = end
            continue
        elif in_key:  # a key, or at the top level a [table] / [[array]] header
            if c == ".":
                parts += 1
                if parts > MAX_KEY_PARTS:
                    return line, (
                        f"a key or table name with more than {MAX_KEY_PARTS} dotted parts; "
                        "show files need at most 4 (e.g. osc.targets.args.shown)"
                    )
            elif c == "=":
                in_key = False
        elif c in "[{":
            stack.append(c)
            if len(stack) > MAX_BRACKETS:
                return line, (
                    f"lists or tables nested more than {MAX_BRACKETS} deep; show files "
                    'need at most 3 (e.g. args = { shown = ["{number}"] })'
                )
            if c == "{":
                in_key, parts = True, 1
        elif c in "]}":
            if stack:
                stack.pop()
        elif c == "," and stack and stack[-1] == "{":
            in_key, parts = True, 1
        i += 1
    return None


def _line_of(text: str, pattern: re.Pattern[str]) -> int | None:
    m = pattern.search(text)
    return text.count("\n", 0, m.start()) + 1 if m else None


def parse(text: str) -> dict[str, Any]:
    """tomllib.loads within bounds; TomlProblem with a line where one is known."""
    if found := prescan(text):
        raise TomlProblem(*found)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        msg = str(e)
        m = _TOML_POS.search(msg)
        raise TomlProblem(
            int(m.group(1)) if m else None, f"TOML syntax error: {_TOML_POS.sub('', msg)}"
        ) from None
    except RecursionError:  # the pre-scan should have stopped this; never a traceback
        raise TomlProblem(None, f"nested more than {MAX_BRACKETS} deep") from None
    except ValueError:  # int(): "Exceeds the limit (4300 digits) for integer string conversion"
        raise TomlProblem(
            _line_of(text, _LONG_NUMBER),
            f"a number with more than {_DIGITS_LIMIT} digits; whole numbers in a show file "
            f"are 64-bit, from {INT_MIN} to {INT_MAX}",
        ) from None
    return data


def out_of_bounds(data: dict[str, Any]) -> list[tuple[Loc, str]]:
    """(key path, message) for values deeper than MAX_DEPTH or integers outside 64 bits.
    Iterative, so any depth that got this far is walked without recursion."""
    found: list[tuple[Loc, str]] = []
    todo: list[tuple[Loc, Any]] = [((), data)]
    while todo and len(found) < 20:
        loc, value = todo.pop()
        if isinstance(value, dict | list) and len(loc) >= MAX_DEPTH:
            found.append((loc, f"nested more than {MAX_DEPTH} levels deep"))
        elif isinstance(value, dict):
            todo.extend(((*loc, k), v) for k, v in reversed(value.items()))
        elif isinstance(value, list):
            todo.extend(((*loc, i), v) for i, v in reversed(list(enumerate(value))))
        elif isinstance(value, int) and not INT_MIN <= value <= INT_MAX:  # bools are 0/1
            digits = value.bit_length() * 3 // 10 + 1  # str() would refuse a huge one
            found.append(
                (
                    loc,
                    f"a whole number of about {digits} digits is out of TOML's 64-bit range "
                    f"({INT_MIN} to {INT_MAX})",
                )
            )
    return found
