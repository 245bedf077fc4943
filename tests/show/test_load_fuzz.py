"""Whatever a curator (or a corrupted disk) writes, loading gives a Show or a ShowError."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import tomllib
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from installation.errors import ShowError
from installation.show.load import load_show
from installation.show.schema import Show

SECTIONS = {
    name: list(f.annotation.model_fields)
    if isinstance(f.annotation, type) and issubclass(f.annotation, BaseModel)
    else []
    for name, f in Show.model_fields.items()
}
_keys = st.sampled_from(sorted({k for ks in SECTIONS.values() for k in ks} | {"zz", "folder"}))
_leaf = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=12),
    st.sampled_from(["art/p.png", "127.0.0.1:9000", "1-1", "usb:1:2", "#ffffff", "{die1}"]),
    st.dates(),
)
_value = st.recursive(
    _leaf,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_keys, inner, max_size=3)),
    max_leaves=6,
)


def _toml(value: object) -> str:
    """A tiny TOML writer for values: enough for the fuzz documents."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(repr(value), repr(value))
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
        return text
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + "}"
    return str(value)


@st.composite
def _document(draw: st.DrawFn) -> str:
    lines = []
    for section in draw(st.lists(st.sampled_from([*SECTIONS, "zz"]), max_size=4, unique=True)):
        lines.append(f"[{section}]")
        fields = SECTIONS.get(section) or ["zz"]
        for key in draw(st.lists(st.sampled_from(fields), max_size=4, unique=True)):
            lines.append(f"{key} = {_toml(draw(_value))}")
    return "\n".join(lines) + "\n"


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_document())
def test_loading_never_raises_anything_but_show_error(text: str) -> None:
    try:
        tomllib.loads(text)
    except (tomllib.TOMLDecodeError, ValueError):
        assume(False)  # the writer above made invalid TOML: not what this test is about
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "show.toml").write_text(text, encoding="utf-8")
        try:
            show = load_show(tmp)
        except ShowError as e:
            assert e.issues and all(str(i) for i in e.issues)
        else:
            assert show.folder == Path(tmp).resolve()
