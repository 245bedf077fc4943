"""Checking str.format templates that curators write (the wall label).

str.format is a small language: `{seed:>999999999}` pads to a gigabyte (756 ms a frame
on the wall), `{seed.__class__}` reaches into Python objects and `{seed:{number}}` nests
fields in the spec. A template may use only the listed field names, plain conversions
and a standard format spec whose width and precision are at most MAX_WIDTH; it is then
filled with sample values once, so a spec that does not fit the field's type (`{title:d}`)
is refused here instead of on the wall.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator, Mapping

MAX_WIDTH = 64  # a label is one line; 64 columns of padding is already a lot
# [[fill]align][sign][z][#][0][width][grouping][.precision][type], Python's mini-language
_SPEC = re.compile(
    r"(?:(?P<fill>.)?[<>=^])?[+\- ]?z?#?0?(?P<width>\d+)?[,_]?(?:\.(?P<precision>\d+))?"
    r"[bcdeEfFgGnosxX%]?",
    re.DOTALL,
)


def template_problems(template: str, samples: Mapping[str, object]) -> Iterator[str]:
    """Why `template` cannot be a label template for these fields (one text each)."""
    accepted = ", ".join(f"{{{f}}}" for f in samples)
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as e:
        yield f"got {template!r}: {e}; write a literal brace as {{{{ or }}}}; fields: {accepted}"
        return
    bad = False
    for name in dict.fromkeys(f for _, f, _, _ in parsed if f is not None):
        if name not in samples:
            bad = True
            base = re.split(r"[.\[]", name, maxsplit=1)[0]
            if base != name and base in samples:
                yield f"{{{name}}}: attribute and index access are not allowed; use {accepted}"
            elif not name:
                yield f"{{}} needs a field name; expected {accepted}"
            else:
                yield f"unknown field {{{name}}}; expected {accepted}"
    for _, field, spec, conversion in parsed:
        if field is None:
            continue
        if conversion not in (None, "s", "r", "a"):  # Formatter.parse lets any letter through
            bad = True
            yield f"{{{field}!{conversion}}}: the conversion must be !s, !r or !a"
        if problem := spec_problem(spec or ""):
            bad = True
            yield f"{{{field}:{spec}}}: {problem}"
    if bad:
        return
    try:
        template.format(**samples)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as e:
        yield f"got {template!r}, which cannot be filled in: {e}"


def spec_problem(spec: str) -> str | None:
    """Why a format spec is not allowed, or None."""
    if "{" in spec or "}" in spec:
        return "fields inside a format spec are not allowed; write the width as a number"
    m = _SPEC.fullmatch(spec)
    if m is None:
        return (
            "not a format spec Python understands; e.g. {number:>4} pads to 4 columns, "
            "{number:,} groups thousands"
        )
    for part in ("width", "precision"):
        digits = m.group(part)
        if digits is not None and (len(digits) > 4 or int(digits) > MAX_WIDTH):
            shown = digits if len(digits) <= 12 else digits[:9] + "..."
            return f"{part} {shown} is too large; at most {MAX_WIDTH}"
    return None
