"""Curator-facing messages for pydantic validation errors in a show file.

A table from pydantic error type to a message builder. Each message names the bad value
and what would be accepted, using the schema itself (field types, bounds, Literal choices,
descriptions) so the words stay in step with schema.py.
"""

from __future__ import annotations

import datetime as dt
import difflib
import types
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from installation.show.schema import Show

Loc = tuple[str | int, ...]


def dotted(loc: Sequence[str | int]) -> str:
    """A key path as a curator reads it: osc.targets[1].host."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def show_value(value: object) -> str:
    """A value as it would be written in TOML, shortened."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (dt.date, dt.time)):
        text = value.isoformat()
    else:
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def given_kind(value: object) -> str:
    """What kind of TOML value the curator wrote."""
    kinds: list[tuple[type | tuple[type, ...], str]] = [
        (bool, "true/false"),
        (int, "a whole number"),
        (float, "a number"),
        (str, "text"),
        (list, "a list"),
        (dict, "a table"),
        ((dt.date, dt.time), "a date/time"),
    ]
    return next((word for t, word in kinds if isinstance(value, t)), type(value).__name__)


def field_names(model: type[BaseModel]) -> list[str]:
    """Keys a curator may write in this table (loader-set fields are excluded)."""
    return [name for name, f in model.model_fields.items() if not f.exclude]


def _strip_optional(ann: Any) -> Any:
    """int | None -> int; Annotated[Path, Strict(False)] -> Path."""
    if get_origin(ann) is Annotated:
        return _strip_optional(get_args(ann)[0])
    if get_origin(ann) in (Union, types.UnionType):
        rest = [a for a in get_args(ann) if a is not type(None)]
        return _strip_optional(rest[0]) if len(rest) == 1 else ann
    return ann


def locate(loc: Sequence[str | int]) -> tuple[type[BaseModel] | None, FieldInfo | None, Any]:
    """Walk the schema along `loc`: (model holding the last key, its field, annotation)."""
    model: type[BaseModel] | None = Show
    parent: type[BaseModel] | None = None
    info: FieldInfo | None = None
    ann: Any = Show
    for part in loc:
        if isinstance(part, int):
            args = get_args(ann)
            ann, info = _strip_optional(args[0] if args else Any), None
        elif model is not None and part in model.model_fields:
            parent, info = model, model.model_fields[part]
            ann = _strip_optional(info.annotation)
        else:
            return (model if part == loc[-1] else None), None, Any
        model = ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None
    return parent, info, ann


def _num(x: object) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def _bounds(info: FieldInfo | None) -> str:
    """'from 1 to 8', 'above 0, up to 1', 'of at least 0' ... from the field's constraints."""
    b: dict[str, object] = {}
    for m in info.metadata if info else []:
        for name in ("ge", "gt", "le", "lt"):
            if getattr(m, name, None) is not None:
                b[name] = getattr(m, name)
    low = f"from {_num(b['ge'])}" if "ge" in b else (f"above {_num(b['gt'])}" if "gt" in b else "")
    high = f"{_num(b['le'])}" if "le" in b else (f"below {_num(b['lt'])}" if "lt" in b else "")
    if low and high:
        return f"{low} to {high}" if "ge" in b and "le" in b else f"{low}, up to {high}"
    if low:
        return f"of at least {_num(b['ge'])}" if "ge" in b else low
    return f"of at most {high}" if "le" in b else high


def _plural(ann: Any) -> str:
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return "tables"
    words = {str: "texts in quotes", Path: "paths in quotes", int: "whole numbers"}
    return words.get(_strip_optional(ann), "lists" if get_origin(ann) is list else "values")


def expected(ann: Any, info: FieldInfo | None) -> str:
    """What the schema accepts at this place, in words."""
    origin = get_origin(ann)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(ann))
    if ann is bool:
        return "true or false"
    if ann in (int, float):
        word = "a whole number" if ann is int else "a number"
        rng = _bounds(info)
        return f"{word} {rng}" if rng else word
    if ann is str:
        return "text in quotes"
    if ann is Path:
        return 'a path in quotes, e.g. "art/painting.png"'
    if ann is dt.date:
        return "a date without quotes, e.g. 2026-12-25"
    if origin is list:
        return f"a list [...] of {_plural(get_args(ann)[0])}"
    if origin is tuple:
        kinds = {_plural(_strip_optional(a)) for a in get_args(ann)}
        of = f" ({kinds.pop()})" if len(kinds) == 1 else ""
        return f"a list of {len(get_args(ann))} values{of}, e.g. [1024, 768]"
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return "a table of keys: " + ", ".join(field_names(ann))
    return "a valid value"


def unknown_key(loc: Loc, model: type[BaseModel] | None, suggest: bool = True) -> str:
    """`unknown key 'cuont'. Did you mean 'count'?` or the list of accepted keys."""
    key = str(loc[-1])
    names = field_names(model) if model else []
    close = difflib.get_close_matches(key, names, n=1, cutoff=0.6) if suggest else []
    if close:
        return f"unknown key {key!r}. Did you mean {close[0]!r}?"
    where = f"[{dotted(loc[:-1])}]" if len(loc) > 1 else "the top level"
    return f"unknown key {key!r}. Keys accepted in {where}: " + ", ".join(names)


def _missing(loc: Loc, err: ErrorDetails) -> str:
    _, info, ann = locate(loc)
    what = expected(ann, info)
    hint = f" ({info.description})" if info and info.description else ""
    return f"required key {loc[-1]!r} is missing; expected {what}{hint}"


def _unquoted(value: object, ann: Any) -> str:
    """' (without quotes: 3)' when text in quotes would be right without them."""
    if not isinstance(value, str):
        return ""
    text = value.strip()
    if ann is bool and text.lower() in ("true", "false", "yes", "no", "on", "off", "1", "0"):
        word = "true" if text.lower() in ("true", "yes", "on", "1") else "false"
        return f" (write {word} without quotes)"
    try:
        number = int(text) if ann is int else float(text) if ann is float else None
    except ValueError:
        return ""
    return "" if number is None else f" (write it without quotes: {text})"


def _wrong(loc: Loc, err: ErrorDetails) -> str:
    _, info, ann = locate(loc)
    value = err["input"]
    hint = _unquoted(value, ann)
    return f"got {show_value(value)} ({given_kind(value)}); expected {expected(ann, info)}{hint}"


def _out_of_range(loc: Loc, err: ErrorDetails) -> str:
    _, info, ann = locate(loc)
    return f"got {show_value(err['input'])}; expected {expected(ann, info)}"


def _length(loc: Loc, err: ErrorDetails) -> str:
    _, info, ann = locate(loc)
    value = err["input"]
    count = len(value) if isinstance(value, (list, tuple, str)) else "?"
    ctx = err.get("ctx") or {}
    words = "characters" if isinstance(value, str) else "items"
    if get_origin(ann) is tuple:  # "a list of 2 values" already says it
        limit = ""
    elif "max_length" in ctx:
        limit = f" of at most {ctx['max_length']} {words}"
    elif "min_length" in ctx:
        limit = f" of at least {ctx['min_length']} {words}"
    else:
        limit = ""
    return f"got {show_value(value)} ({count} {words}); expected {expected(ann, info)}{limit}"


def _custom(loc: Loc, err: ErrorDetails) -> str:
    """A schema validator's own ValueError: its text already says what is accepted."""
    error = (err.get("ctx") or {}).get("error", err["msg"])
    return f"got {show_value(err['input'])}; {error}"


def _extra(loc: Loc, err: ErrorDetails) -> str:
    parent, _, _ = locate(loc)
    return unknown_key(loc, parent)


Builder = Callable[[Loc, ErrorDetails], str]
_WRONG_TYPE = (
    "int_type int_parsing int_from_float float_type float_parsing bool_type bool_parsing "
    "string_type list_type tuple_type dict_type model_type model_attributes_type path_type "
    "finite_number string_sub_type date_type date_parsing date_from_datetime_inexact "
    "is_instance_of"
)
_OUT_OF_RANGE = "greater_than greater_than_equal less_than less_than_equal literal_error"
BUILDERS: dict[str, Builder] = {
    "extra_forbidden": _extra,
    "missing": _missing,
    "value_error": _custom,
    "assertion_error": _custom,
    **{t: _wrong for t in _WRONG_TYPE.split()},
    **{t: _out_of_range for t in _OUT_OF_RANGE.split()},
    "too_long": _length,
    "too_short": _length,
    "string_too_long": _length,
    "string_too_short": _length,
}


def clean_loc(loc: Sequence[str | int]) -> Loc:
    """Drop pydantic's internal loc parts (e.g. 'function-after[...]')."""
    return tuple(p for p in loc if isinstance(p, int) or "[" not in p)


def message(err: ErrorDetails) -> tuple[Loc, str]:
    """(key path, message) for one entry of ValidationError.errors()."""
    loc = clean_loc(err["loc"])
    build = BUILDERS.get(err["type"])
    if build is None:
        return loc, f"got {show_value(err.get('input'))}; {str(err['msg']).lower()}"
    return loc, build(loc, err)
