"""KeyLines: key paths back to show.toml line numbers."""

from __future__ import annotations

import textwrap
import tomllib

import pytest

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
