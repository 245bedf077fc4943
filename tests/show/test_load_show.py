"""load_show: a valid show loads with resolved paths; schema problems come back located."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from installation.errors import ShowError, ShowIssue
from installation.show.load import load_show

Problems = Callable[[str], list[ShowIssue]]
Problem = Callable[[str], ShowIssue]

VALID = """\
[show]
name = "garden"
title = "The Garden"
artist = "A. Painter"

[artwork]
paintings = ["art/p.png"]

[dice]
count = 2
faces = 6

[variations]
prompt = "the garden, {die1}, {die2}"
variants = [
  ["dawn", "noon", "dusk", "night", "rain", "snow"],
  ["oil", "ink", "chalk", "glass", "wool", "smoke"],
]
steps = 4
strength = 0.5

[[osc.targets]]
name = "sound"
host = "127.0.0.1"
port = 9001
"""


def test_valid_show_loads_with_paths_inside_the_folder(
    write_show: Callable[[str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = write_show(VALID)
    monkeypatch.chdir(tmp_path)
    show = load_show("myshow")  # relative, as a curator types it
    assert show.folder == folder.resolve() and show.folder.is_absolute()
    assert show.source == folder.resolve() / "show.toml"
    assert show.resolve(show.artwork.paintings[0]) == folder.resolve() / "art" / "p.png"
    assert show.storage_dir == folder.resolve() / "var"
    assert show.osc.targets[0].port == 9001
    assert load_show(folder / "show.toml") == show  # the .toml path works the same


def test_empty_show_file_gives_the_defaults(write_show: Callable[[str], Path]) -> None:
    show = load_show(write_show(""))
    assert (show.dice.count, show.dice.faces, show.variations.engine) == (2, 6, "auto")


def test_a_toml_file_with_another_name(tmp_path: Path) -> None:
    (tmp_path / "rehearsal.toml").write_text('[show]\nname = "r"\n')
    show = load_show(tmp_path / "rehearsal.toml")
    assert show.show.name == "r" and show.source == (tmp_path / "rehearsal.toml").resolve()


def test_issue_text_is_file_line_path_message(problem: Problem) -> None:
    issue = problem("[dice]\ncount = 0\n")
    assert issue.file.endswith("myshow/show.toml")
    assert str(issue) == f"{issue.file}:2: dice.count: got 0; expected a whole number from 1 to 8"


@pytest.mark.parametrize(
    ("text", "line", "path", "message"),
    [
        (
            "[dice]\nfaces = 6\ncuont = 3\n",
            3,
            "dice.cuont",
            "unknown key 'cuont'. Did you mean 'count'?",
        ),
        (
            "[variations]\nstrenght = 0.5\n",
            2,
            "variations.strenght",
            "unknown key 'strenght'. Did you mean 'strength'?",
        ),
        ("[dicee]\ncount = 3\n", 1, "dicee", "unknown key 'dicee'. Did you mean 'dice'?"),
        (
            "[[osc.targets]]\nname = 'a'\nhots = '1.2.3.4'\nport = 9\n",
            3,
            "osc.targets[0].hots",
            "unknown key 'hots'. Did you mean 'host'?",
        ),
    ],
)
def test_typos_get_did_you_mean(
    problems: Problems, text: str, line: int, path: str, message: str
) -> None:
    found = [i for i in problems(text) if i.path == path]
    assert [(i.line, i.message) for i in found] == [(line, message)]


def test_unknown_key_without_a_close_match_lists_the_accepted_keys(problem: Problem) -> None:
    issue = problem("[cache]\nzzz = 1\n")
    assert issue.message == (
        "unknown key 'zzz'. Keys accepted in [cache]: memory_mb, disk_mb, prerender"
    )


@pytest.mark.parametrize("key", ["folder", "source"])
def test_loader_set_fields_are_unknown_keys_in_the_file(problem: Problem, key: str) -> None:
    issue = problem(f'# my show\n\n{key} = "/etc"\n[show]\nname = "x"\n')
    assert (issue.line, issue.path) == (3, key)
    assert issue.message.startswith(f"unknown key '{key}'. Keys accepted in the top level: show,")
    assert "folder," not in issue.message and "source" not in issue.message.split(":", 1)[1]


@pytest.mark.parametrize(
    ("text", "path", "message"),
    [
        (
            '[dice]\ncount = "three"',
            "dice.count",
            "got 'three' (text); expected a whole number from 1 to 8",
        ),
        (
            "[dice]\ncount = 2.5",
            "dice.count",
            "got 2.5 (a number); expected a whole number from 1 to 8",
        ),
        (
            "[display]\nfullscreen = 'maybe'",
            "display.fullscreen",
            "got 'maybe' (text); expected true or false",
        ),
        ("[show]\nname = 7", "show.name", "got 7 (a whole number); expected text in quotes"),
        (
            "[artwork]\npaintings = 'art/p.png'",
            "artwork.paintings",
            "got 'art/p.png' (text); expected a list [...] of paths in quotes",
        ),
        (
            "[variations]\nmodel = 3",
            "variations.model",
            'got 3 (a whole number); expected a path in quotes, e.g. "art/painting.png"',
        ),
        (
            "dice = 3",
            "dice",
            "got 3 (a whole number); expected a table of keys: count, faces, ports, baud, "
            "settle_ms, throw_timeout_s, every_die_must_move, silence_timeout_s",
        ),
        (
            "[variations]\nvariants = [['a', 1]]",
            "variations.variants[0][1]",
            "got 1 (a whole number); expected text in quotes",
        ),
        (
            "[osc]\nreply_port = 'x'",
            "osc.reply_port",
            "got 'x' (text); expected a whole number from 1 to 65535",
        ),
        (
            "[show]\nname = 1979-05-27",
            "show.name",
            "got 1979-05-27 (a date/time); expected text in quotes",
        ),
    ],
)
def test_wrong_types_name_the_expected_type(
    problem: Problem, text: str, path: str, message: str
) -> None:
    issue = problem(text)
    assert (issue.path, issue.message) == (path, message)
    assert issue.line == (1 if text.startswith("dice") else 2)


@pytest.mark.parametrize(
    ("text", "path", "message"),
    [
        ("[dice]\nfaces = 101", "dice.faces", "got 101; expected a whole number from 2 to 100"),
        (
            "[variations]\nstrength = 0",
            "variations.strength",
            "got 0; expected a number above 0, up to 1",
        ),
        (
            "[variations]\nstrength = 1.5",
            "variations.strength",
            "got 1.5; expected a number above 0, up to 1",
        ),
        (
            "[cache]\nmemory_mb = -1",
            "cache.memory_mb",
            "got -1; expected a whole number from 0 to 1048576",
        ),
        (
            "[variations]\nseed_mode = 'random'",
            "variations.seed_mode",
            "got 'random'; expected one of 'fixed', 'fresh'",
        ),
        (
            "[display]\nwindow_size = [800, 600, 2]",
            "display.window_size",
            "got [800, 600, 2] (3 items); expected a list of 2 values (whole numbers), "
            "e.g. [1024, 768]",
        ),
    ],
)
def test_out_of_range_values_say_what_is_accepted(
    problem: Problem, text: str, path: str, message: str
) -> None:
    issue = problem(text)
    assert (issue.line, issue.path, issue.message) == (2, path, message)


def test_missing_required_key_points_to_its_table_header(problem: Problem) -> None:
    issue = problem(
        "[[osc.targets]]\nname = 'a'\nhost = '10.0.0.2'\nport = 1\n\n"
        "[[osc.targets]]\nname = 'b'\nhost = '10.0.0.3'\n"
    )
    assert (issue.line, issue.path) == (6, "osc.targets[1].port")
    assert issue.message == (
        "required key 'port' is missing; expected a whole number from 1 to 65535 "
        "(UDP port of the receiver.)"
    )


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("[dice]\ncount = \n", 2),
        ("[dice]\n[dice]\n", 2),
        ('[show]\nname = "x\n', 2),
        ("a = 1\na = 2\n", 2),
    ],
)
def test_toml_syntax_error_has_its_line(problem: Problem, text: str, line: int) -> None:
    issue = problem(text)
    assert issue.line == line and issue.path == ""
    assert issue.message.startswith("TOML syntax error: ") and "(at line" not in issue.message
    assert str(issue) == f"{issue.file}:{line}: {issue.message}"


def test_every_problem_is_reported_at_once_in_line_order(problems: Problems) -> None:
    found = problems(
        """\
        [dice]
        cuont = 2
        faces = 1

        [variations]
        seed_mode = "random"
        width = 500
        engine = "diffusers"

        [display]
        background = "black"
        """
    )
    assert [(i.line, i.path) for i in found] == [
        (2, "dice.cuont"),
        (3, "dice.faces"),
        (6, "variations.seed_mode"),
        (7, "variations.width"),  # cross-field rules still ran on the keys that were valid
        (8, "variations.engine"),
        (11, "display.background"),
    ]


def test_rules_that_read_a_bad_key_are_skipped(problems: Problems) -> None:
    # dice.count is invalid, so the variants are not judged against the default of 2 dice.
    found = problems("[dice]\ncount = 0\n[variations]\nvariants = [['a'], ['b'], ['c']]\n")
    assert [i.path for i in found] == ["dice.count"]


def test_missing_show_folder(tmp_path: Path) -> None:
    with pytest.raises(ShowError) as info:
        load_show(tmp_path / "nope")
    [issue] = info.value.issues
    assert issue.file.endswith("nope") and issue.line is None
    assert "no such show folder or file" in issue.message and "show.toml" in issue.message


def test_folder_without_show_toml(tmp_path: Path) -> None:
    with pytest.raises(ShowError, match=r"no show\.toml in this folder"):
        load_show(tmp_path)


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "show.toml").write_bytes(b'[show]\nname = "caf\xe9"\n')
    with pytest.raises(ShowError, match=r"not UTF-8 text .* save the file as UTF-8"):
        load_show(tmp_path)


def test_show_error_is_a_value_error(problems: Problems) -> None:
    with pytest.raises(ValueError):
        load_show("/nonexistent/show/folder")


def test_the_schema_never_allows_more_faces_than_the_serial_protocol_carries() -> None:
    from installation.dice.protocol import MAX_FACES as PROTOCOL
    from installation.show.schema import MAX_FACES as SHOW

    assert SHOW <= PROTOCOL
