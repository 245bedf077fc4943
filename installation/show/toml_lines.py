"""Map TOML key paths back to line numbers, so show errors can say where to look.

tomllib and pydantic give key paths ("loc") but no lines. This is a small scanner over
text that tomllib has already accepted: it records the line of every table header,
array-of-tables entry, `key =` line (dotted keys included) and array element.
"""

from __future__ import annotations

import bisect
import contextlib
from collections.abc import Callable, Sequence

Loc = tuple[str | int, ...]
_BARE = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


class KeyLines:
    """Line numbers (1-based) of the keys in one TOML document."""

    def __init__(self, text: str) -> None:
        self._lines: dict[Loc, int] = {}
        # Never let line-finding hide the real error: lines are a courtesy.
        with contextlib.suppress(Exception):
            _Scanner(text, self._lines).run()

    def line(self, loc: Sequence[str | int]) -> int:
        """The line of `loc`, else of its nearest recorded parent (a missing key points
        to its table header), else 1."""
        path = tuple(loc)
        while path:
            if path in self._lines:
                return self._lines[path]
            path = path[:-1]
        return 1

    def known(self, loc: Sequence[str | int]) -> bool:
        return tuple(loc) in self._lines


class _Scanner:
    """Recursive-descent walk over valid TOML, recording where each key path starts."""

    def __init__(self, text: str, out: dict[Loc, int]) -> None:
        self.s = text
        self.i = 0
        self.out = out
        self.newlines = [n for n, c in enumerate(text) if c == "\n"]
        self.table: Loc = ()
        self.aot: dict[tuple[str, ...], int] = {}  # array-of-tables path -> current index

    def lineno(self, pos: int) -> int:
        return bisect.bisect_left(self.newlines, pos) + 1

    def peek(self, n: int = 1) -> str:
        return self.s[self.i : self.i + n]

    def record(self, loc: Loc, pos: int) -> None:
        self.out.setdefault(loc, self.lineno(pos))

    def skip(self, newlines: bool) -> None:
        """Skip blanks and comments (and newlines when inside brackets)."""
        while self.i < len(self.s):
            c = self.s[self.i]
            if c in " \t\r" or (newlines and c == "\n"):
                self.i += 1
            elif c == "#":
                end = self.s.find("\n", self.i)
                self.i = len(self.s) if end < 0 else end
            else:
                return

    def run(self) -> None:
        while True:
            self.skip(newlines=True)
            if self.i >= len(self.s):
                return
            start = self.i
            if self.peek(2) == "[[":
                self.i += 2
                self.header(start, array=True)
            elif self.peek() == "[":
                self.i += 1
                self.header(start, array=False)
            else:
                self.keyvalue(self.table)
            end = self.s.find("\n", self.i)  # rest of the line: a comment at most
            self.i = len(self.s) if end < 0 else end + 1

    def header(self, start: int, array: bool) -> None:
        names = self.key()
        if array:
            self.aot[tuple(names)] = self.aot.get(tuple(names), -1) + 1
        self.table = self.resolve(names)
        self.record(self.table, start)
        self.i = self.s.index("]]" if array else "]", self.i) + (2 if array else 1)

    def resolve(self, names: list[str]) -> Loc:
        """Insert the current index after every array-of-tables prefix."""
        loc: list[str | int] = []
        for n in range(1, len(names) + 1):
            loc.append(names[n - 1])
            index = self.aot.get(tuple(names[:n]))
            if index is not None:
                loc.append(index)
        return tuple(loc)

    def keyvalue(self, base: Loc) -> None:
        start = self.i
        loc = base + tuple(self.key())
        self.record(loc, start)
        self.skip(newlines=False)
        self.i += 1  # '='
        self.skip(newlines=False)
        self.value(loc)

    def key(self) -> list[str]:
        parts: list[str] = []
        while True:
            self.skip(newlines=False)
            c = self.peek()
            if c in "\"'":
                parts.append(self.string())
            else:
                j = self.i
                while self.i < len(self.s) and self.s[self.i] in _BARE:
                    self.i += 1
                parts.append(self.s[j : self.i])
            self.skip(newlines=False)
            if self.peek() != ".":
                return parts
            self.i += 1

    def value(self, loc: Loc) -> None:
        c = self.peek()
        if c == "[":
            self.i += 1
            self.items(loc, "]", lambda idx: self.element((*loc, idx)))
        elif c == "{":
            self.i += 1
            self.items(loc, "}", lambda _idx: self.keyvalue(loc))
        elif c in "\"'":
            self.string()
        else:
            while self.i < len(self.s) and self.s[self.i] not in ",]}\n#":
                self.i += 1

    def element(self, loc: Loc) -> None:
        self.record(loc, self.i)
        self.value(loc)

    def items(self, loc: Loc, close: str, each: Callable[[int], None]) -> None:
        """Comma-separated items up to `close`; `each(index)` parses one."""
        idx = 0
        while True:
            self.skip(newlines=True)
            if self.i >= len(self.s) or self.peek() == close:
                self.i += 1
                return
            before = self.i
            each(idx)
            self.skip(newlines=True)
            if self.peek() == ",":
                self.i += 1
            if self.i == before:  # no progress: malformed, stop rather than spin
                raise ValueError("toml_lines: stuck")
            idx += 1

    def string(self) -> str:
        """Consume a string of any of the four kinds; return its raw contents."""
        q = self.peek()
        if self.peek(3) == q * 3:
            self.i += 3
            end = self._find_close(q * 3, escapes=q == '"')
            text = self.s[self.i : end]
            self.i = end + 3
            while self.peek() == q:  # up to two quotes may precede the closing three
                self.i += 1
            return text
        self.i += 1
        end = self._find_close(q, escapes=q == '"')
        text = self.s[self.i : end]
        self.i = end + 1
        return text

    def _find_close(self, quote: str, escapes: bool) -> int:
        j = self.i
        while True:
            if escapes and self.s[j] == "\\":
                j += 2
                continue
            if self.s.startswith(quote, j):
                return j
            j += 1
