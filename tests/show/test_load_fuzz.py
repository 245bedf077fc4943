"""Whatever a curator (or a corrupted disk, or someone hostile) writes, loading gives a
Show or a ShowError, within a deadline: never another exception, never a hang."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import tomllib
from pathlib import Path

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from installation.errors import ShowError
from installation.show.format_check import MAX_WIDTH, template_problems
from installation.show.load import load_show
from installation.show.rules import LABEL_SAMPLES
from installation.show.schema import Show
from installation.show.toml_bounds import TomlProblem, parse, prescan
from tests.waiting import within

DEADLINE_S = 20.0  # per example; a load takes milliseconds, only a hang comes near this

# Values that once broke the loader or the show at run time (issues 12 and 13).
HOSTILE = [
    "3",
    "yes",
    "1e-300",
    "../art/p.png",
    "/etc",
    "/",
    "/dev/zero",
    "loop://",
    "usb:2341:0043@99999999999999999",
    "{seed:>999999999}",
    "{seed.__class__}",
    "{seed:{number}}",
    "{title:d}",
    "{}",
    "{0}",
    "{number!x}",
    "x" * 300,
    "\x00",
    "art/\x00.png",
    "COM3",
]
SECTIONS = {
    name: list(f.annotation.model_fields)
    if isinstance(f.annotation, type) and issubclass(f.annotation, BaseModel)
    else []
    for name, f in Show.model_fields.items()
}
_keys = st.sampled_from(sorted({k for ks in SECTIONS.values() for k in ks} | {"zz", "folder"}))
_leaf = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.sampled_from([0, 1, -1, 99999999999999999, 2**63, 10**30, -(2**64), 100000]),
    st.sampled_from([1e-300, 1e300, 0.5, -0.0]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=12),
    st.sampled_from(["art/p.png", "127.0.0.1:9000", "1-1", "usb:1:2", "#ffffff", "{die1}"]),
    st.sampled_from(HOSTILE),
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


def load_within_deadline(folder: Path) -> Show | ShowError:
    """load_show in a thread: a Show or a ShowError; any other exception is re-raised,
    and a load still running at the deadline fails the test instead of hanging it."""
    outcome = within(lambda: load_show(folder), DEADLINE_S, "load_show still")
    if isinstance(outcome, ShowError):
        assert outcome.issues and all(str(i) for i in outcome.issues)
        return outcome
    if isinstance(outcome, BaseException):
        raise outcome
    assert isinstance(outcome, Show) and outcome.folder == folder.resolve()
    return outcome


def load_text(data: bytes) -> Show | ShowError:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "show.toml").write_bytes(data)
        return load_within_deadline(Path(tmp))


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_document())
def test_loading_never_raises_anything_but_show_error(text: str) -> None:
    try:
        tomllib.loads(text)
    except (tomllib.TOMLDecodeError, ValueError):
        assume(False)  # the writer above made invalid TOML: not what this test is about
    assert prescan(text) is None, "the pre-scan refused a shallow, valid document"
    load_text(text.encode("utf-8"))


@settings(max_examples=300, deadline=None)
@example(value="a'", depth=16, opener="[")  # '''a'''' ends in a quote of its own
@example(value='a\\"[[', depth=16, opener="{k = ")
@given(
    st.one_of(st.text(max_size=40), st.text(alphabet="\"'\\[{#.=\na", max_size=60)),
    st.integers(0, 16),
    st.sampled_from(["[", "{k = "]),
)
def test_the_pre_scan_never_refuses_valid_toml_within_the_limits(
    value: str, depth: int, opener: str
) -> None:
    """Any string in any of TOML's four quotings, nested up to the limit, passes."""
    closer = "]" if opener == "[" else "}"
    forms = [json.dumps(value)]
    if "'" not in value and "\n" not in value and "\r" not in value:
        forms.append(f"'{value}'")
    if "'''" not in value:  # it may end in one or two quotes: ''''a'''''
        forms.append(f"'''{value}'''")
    forms.append('"""' + json.dumps(value)[1:-1] + '"""')
    for form in forms:
        text = f"a.b.c = {opener * depth}{form}{closer * depth}  # {'[' * 20} \n[t]\nx = 1\n"
        try:
            tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            continue  # e.g. a control character that TOML does not allow raw
        assert prescan(text) is None, text


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4000))
def test_arbitrary_bytes_give_a_show_error_or_a_show(data: bytes) -> None:
    load_text(data)


# TOML-ish soup: pieces of TOML syntax in any order, so brackets nest, strings open and
# close, keys get long and numbers get huge in combinations no writer would produce.
_SYNTAX = "[ ] [[ ]] { } , = . # \" ' \"\"\" ''' \\ - + e inf nan true 0x ff 1 1e-300"
_WORDS = "dice count faces ports display label_template storage dir artwork paintings osc "
_WORDS += "targets schedule timezone exceptions x 2026-12-25 10:00"
_VALUES = ['"3"', '"yes"', '"{seed:>999999999}"', '"../p.png"', '"/etc"', '"loop://"']
_ODD = ["\n", " ", "\r", "\x00", "\u00e9", '"\\u0000"', "9" * 50, "9" * 4400]
_PIECES = _SYNTAX.split() + _WORDS.split() + _VALUES + _ODD
_soup = st.lists(st.sampled_from(_PIECES), max_size=300).map("".join)
_deep = st.tuples(st.integers(0, 3000), st.sampled_from(["[", "{a=", "a."])).map(
    lambda n_open: "x = " + n_open[1] * n_open[0] + "1"
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(_soup, _deep, st.tuples(_soup, _soup).map("\n".join)))
def test_toml_ish_soup_gives_a_show_error_or_a_show(text: str) -> None:
    load_text(text.encode("utf-8", "surrogatepass"))


@settings(max_examples=300, deadline=None)
@given(st.one_of(_soup, _deep, st.text(max_size=500)))
def test_the_bounded_parser_raises_only_toml_problems(text: str) -> None:
    try:
        parse(text)
    except TomlProblem as e:
        assert e.message and (e.line is None or e.line >= 1)


_template = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "{",
                "}",
                "{{",
                "}}",
                ":",
                "!",
                ".",
                "[",
                "0",
                "9",
                ">",
                "<",
                "^",
                "=",
                "+",
                "d",
                "x",
                "f",
                "s",
                "r",
                ",",
                "_",
                "#",
                "z",
                " ",
            ]
        ),
        st.sampled_from([f"{{{f}" for f in LABEL_SAMPLES] + ["{seed.real", "{0", "{__class__"]),
        st.from_regex(r"[0-9]{1,12}", fullmatch=True),
    ),
    max_size=30,
).map("".join)


@settings(max_examples=400, deadline=None)
@given(_template)
def test_a_label_template_that_passes_fills_in_small(template: str) -> None:
    """Whatever passes the check fills in with the kiosk's fields without an error, and
    no field grows past MAX_WIDTH columns (or its own length)."""
    problems = list(template_problems(template, LABEL_SAMPLES))
    if not problems:
        text = template.format(**LABEL_SAMPLES)
        assert len(text) <= len(template) + template.count("{") * (MAX_WIDTH + 12)
