"""KeyLines: key paths back to show.toml line numbers."""

from __future__ import annotations

import textwrap
import tomllib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from installation.show.toml_lines import KeyLines

DOC = textwrap.dedent(
    '''\
    # a comment with [brackets] and key = 1
    top = "x"
    [show]
    name = "n"  # [not.a.table]
    title = """two
    [lines] with key = "inside" \\""" still inside
    """
    artist = 'lit\\'
    [dice]
    ports = [
      "/dev/a",  # ]
      'usb:1:2',
    ]
    variations.prompt = "dotted"
    [[osc.targets]]
    name = "a"
    [[osc.targets]]
    name = "b"
    extra = {a = 1, b = [1,
      2]}
    [ "display" . "x" ]
    y = [[1, 2], [3]]
    '''
)


@pytest.fixture(scope="module")
def lines() -> KeyLines:
    tomllib.loads(DOC)  # the mapper only ever sees text tomllib accepted
    return KeyLines(DOC)


@pytest.mark.parametrize(
    ("loc", "line"),
    [
        (("top",), 2),
        (("show",), 3),
        (("show", "name"), 4),
        (("show", "title"), 5),
        (("show", "artist"), 8),  # a multi-line string did not hide it
        (("dice",), 9),
        (("dice", "ports"), 10),
        (("dice", "ports", 0), 11),
        (("dice", "ports", 1), 12),
        (("dice", "variations", "prompt"), 14),
        (("osc", "targets", 0), 15),
        (("osc", "targets", 0, "name"), 16),
        (("osc", "targets", 1), 17),
        (("osc", "targets", 1, "name"), 18),
        (("osc", "targets", 1, "extra", "b", 1), 20),
        (("display", "x"), 21),
        (("display", "x", "y", 1, 0), 22),
    ],
)
def test_recorded_lines(lines: KeyLines, loc: tuple[str | int, ...], line: int) -> None:
    assert lines.known(loc)
    assert lines.line(loc) == line


def test_missing_key_points_to_its_table_header(lines: KeyLines) -> None:
    assert not lines.known(("osc", "targets", 1, "port"))
    assert lines.line(("osc", "targets", 1, "port")) == 17
    assert lines.line(("dice", "count")) == 9


def test_unknown_everything_is_line_1(lines: KeyLines) -> None:
    assert lines.line(("engine", "device")) == 1
    assert lines.line(()) == 1
    assert not lines.known(("lines",))  # the fake header inside the string


def test_garbage_never_raises() -> None:
    broken = KeyLines('a = "unterminated\n[b')
    assert broken.line(("a",)) == 1


# -- property: for generated documents, every key is found on the line it was written --
_names = st.text("abx_-", min_size=1, max_size=2)  # small: keys collide with the fakes


def _basic(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


# Multi-line string bodies made of lines that look like TOML: the scanner must not be fooled.
_fake_lines = st.lists(
    st.sampled_from(["[a]", "[[b]]", "a = 1", 'x = "q', "# c", "", "  a.b = 2"]), max_size=4
).map("\n".join)
_scalar = st.one_of(
    st.integers(-5, 5).map(str),
    st.text("ab #[]=.'{}\\\"", max_size=6).map(lambda t: f'"{_basic(t)}"'),
    st.text('ab #[]="', max_size=6).map(lambda t: f"'{t}'"),
    _fake_lines.map(lambda t: f"'''{t}'''"),
    _fake_lines.map(lambda t: f'"""{_basic(t)}"""'),
)
_value = st.one_of(_scalar, st.lists(_scalar, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"))
_noise = st.sampled_from(["", "# note [x] = 1", "   ", "# [[fake]]"])


@st.composite
def _document(draw: st.DrawFn) -> tuple[str, dict[tuple[str | int, ...], int]]:
    lines: list[str] = []
    where: dict[tuple[str | int, ...], int] = {}
    for table in draw(st.lists(_names, min_size=1, max_size=3, unique=True)):
        lines += draw(st.lists(_noise, max_size=2))
        lines.append(f"[{table}]")
        where[(table,)] = len(lines)
        for key in draw(st.lists(_names, max_size=4, unique=True)):
            lines += draw(st.lists(_noise, max_size=1))
            where[(table, key)] = len(lines) + 1
            lines += f"{key} = {draw(_value)}".split("\n")
    return "\n".join(lines) + "\n", where


@settings(max_examples=100, deadline=None)
@given(_document())
def test_generated_documents_map_every_key_to_its_line(
    doc: tuple[str, dict[tuple[str | int, ...], int]],
) -> None:
    text, where = doc
    tomllib.loads(text)  # the generator only writes valid TOML
    lines = KeyLines(text)
    for loc, line in where.items():
        assert lines.line(loc) == line, (loc, text)
