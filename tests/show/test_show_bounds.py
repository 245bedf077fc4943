"""Strict types and sane ranges: every value that would break the show at run time is
refused by the loader, with the key, the bad value and what would be accepted."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from installation.errors import ShowIssue
from installation.show.load import load_show

Problem = Callable[[str], ShowIssue]


@pytest.mark.parametrize(
    ("text", "path", "message"),
    [
        (
            '[dice]\ncount = "3"',
            "dice.count",
            "got '3' (text); expected a whole number from 1 to 8 (write it without quotes: 3)",
        ),
        (
            '[display]\nfullscreen = "yes"',
            "display.fullscreen",
            "got 'yes' (text); expected true or false (write true without quotes)",
        ),
        (
            '[display]\nlabel = "false"',
            "display.label",
            "got 'false' (text); expected true or false (write false without quotes)",
        ),
        ("[display]\nlabel = 1", "display.label", "got 1 (a whole number); expected true or false"),
        (
            '[dice]\nthrow_timeout_s = "8.5"',
            "dice.throw_timeout_s",
            "got '8.5' (text); expected a number from 0.5 to 120 (write it without quotes: 8.5)",
        ),
        (
            "[display]\nfps = 60.0",
            "display.fps",
            "got 60.0 (a number); expected a whole number from 10 to 240",
        ),
        (
            "[dice]\ncount = true",
            "dice.count",
            "got true (true/false); expected a whole number from 1 to 8",
        ),
        (
            '[osc]\nreply_port = "9001"',
            "osc.reply_port",
            "got '9001' (text); expected a whole number from 1 to 65535 "
            "(write it without quotes: 9001)",
        ),
        (
            '[display]\nwindow_size = ["800", 600]',
            "display.window_size[0]",
            "got '800' (text); expected a whole number (write it without quotes: 800)",
        ),
        (
            '[[schedule.exceptions]]\ndate = "2026-12-25"\nhours = "closed"',
            "schedule.exceptions[0].date",
            "got '2026-12-25' (text); expected a date without quotes, e.g. 2026-12-25",
        ),
    ],
)
def test_a_string_or_bool_where_a_number_or_bool_belongs_is_an_error(
    problems: Callable[[str], list[ShowIssue]], text: str, path: str, message: str
) -> None:
    found = [i for i in problems(text) if i.path == path]  # [schedule] also lacks a timezone
    assert [i.message for i in found] == [message]


def test_the_lax_conversions_that_are_meant_stay(write_show: Callable[[str], Path]) -> None:
    """A whole number for a number, and paths written as text."""
    show = load_show(
        write_show(
            "[artwork]\npaintings = ['art/p.png']\n[variations]\nguidance = 2\nstrength = 1\n"
            "[dice]\nthrow_timeout_s = 8\n[storage]\ndir = 'state'\n"
        )
    )
    assert show.variations.guidance == 2.0 and isinstance(show.variations.guidance, float)
    assert show.artwork.paintings == [Path("art/p.png")]
    assert show.storage_dir == show.folder / "state"
    assert show.dice.throw_timeout_s == 8.0


@pytest.mark.parametrize(
    ("text", "path", "words"),
    [
        ("[dice]\nbaud = 99999999999999999", "dice.baud", ["from 300 to 4000000"]),
        ("[dice]\nbaud = 0", "dice.baud", ["got 0", "from 300 to 4000000"]),
        ("[dice]\nfaces = 101", "dice.faces", ["from 2 to 100"]),
        ("[dice]\nsilence_timeout_s = 1e-300", "dice.silence_timeout_s", ["from 1 to 60"]),
        ("[dice]\nthrow_timeout_s = 1e-300", "dice.throw_timeout_s", ["from 0.5 to 120"]),
        ("[engine]\nworker_timeout_s = 1e-300", "engine.worker_timeout_s", ["from 1 to 3600"]),
        ("[engine]\nworker_timeout_s = 1e9", "engine.worker_timeout_s", ["from 1 to 3600"]),
        ("[display]\nattract_after_s = 1e-300", "display.attract_after_s", ["from 1 to 86400"]),
        ("[display]\nfps = 100000", "display.fps", ["from 10 to 240"]),
        (
            "[display]\nwindow_size = [100000, 100000]",
            "display.window_size",
            ["got [100000, 100000]", "from 64 to 16384"],
        ),
        ("[display]\nwindow_size = [-5, 0]", "display.window_size", ["got [-5, 0]", "64 to 16384"]),
        ("[display]\nwindow_size = [63, 480]", "display.window_size", ["64 to 16384"]),
        ("[variations]\nwidth = 100000", "variations.width", ["from 64 to 2048"]),
        ("[variations]\nsteps = 0", "variations.steps", ["from 1 to 150"]),
        ("[variations]\nstrength = nan", "variations.strength", ["above 0, up to 1"]),
        ("[osc]\nheartbeat_s = 1e-300", "osc.heartbeat_s", ["0 (no heartbeat)", "0.5 to 3600"]),
        ("[osc]\nheartbeat_s = inf", "osc.heartbeat_s", ["from 0 to 3600"]),
        (
            "[[osc.targets]]\nname='a'\nhost='10.0.0.1'\nport=1\nlead_ms=-1",
            "osc.targets[0].lead_ms",
            ["from 0 to 10000"],
        ),
        ("[cache]\nmemory_mb = 99999999999", "cache.memory_mb", ["from 0 to 1048576"]),
        ("[archive]\nmax_files = 0", "archive.max_files", ["from 1 to 10000000"]),
        ("[cluster]\nstate_every_s = 1e-300", "cluster.state_every_s", ["from 0.1 to 60"]),
        ("[cluster]\nready_timeout_s = 1e-300", "cluster.ready_timeout_s", ["from 0.5 to 300"]),
        ("[show]\ntitle = '" + "x" * 201 + "'", "show.title", ["201 characters", "at most 200"]),
        ("[display]\nattract_text = '" + "x" * 999 + "'", "display.attract_text", ["at most 200"]),
        (
            "[dice]\nports = [" + "'/dev/ttyACM0', " * 17 + "]",
            "dice.ports",
            ["17 items", "at most 16 items"],
        ),
        # cross-field: a throw must be able to settle; followers must hear the leader
        (
            "[dice]\nsettle_ms = 2000\nthrow_timeout_s = 1.5",
            "dice.throw_timeout_s",
            ["got 1.5 s", "settle_ms = 2000 ms", "more than 2 s"],
        ),
        (
            "[cluster]\nstate_every_s = 5\nleader_timeout_s = 5",
            "cluster.leader_timeout_s",
            ["state_every_s = 5 s", "more than 5 s"],
        ),
    ],
)
def test_numbers_out_of_their_sane_range_name_the_range(
    problem: Problem, text: str, path: str, words: list[str]
) -> None:
    issue = problem(text)
    assert issue.path == path, str(issue)
    for word in words:
        assert word in issue.message, str(issue)


def test_the_edges_of_each_range_are_accepted(write_show: Callable[[str], Path]) -> None:
    show = load_show(
        write_show(
            "[dice]\nbaud = 4000000\nfaces = 100\ncount = 8\nsilence_timeout_s = 1\n"
            "throw_timeout_s = 0.5\nsettle_ms = 0\n"
            "[display]\nwindow_size = [64, 16384]\nlabel_template = '{number:>64}'\n"
            "[osc]\nheartbeat_s = 0.5\n[engine]\nworker_timeout_s = 1\n"
        )
    )
    assert (show.dice.faces, show.display.window_size, show.osc.heartbeat_s) == (
        100,
        (64, 16384),
        0.5,
    )
    assert load_show(write_show("[osc]\nheartbeat_s = 0\n")).osc.heartbeat_s == 0


@pytest.mark.parametrize(
    ("template", "words"),
    [
        ("{seed:>999999999}", ["{seed:>999999999}", "width 999999999 is too large", "at most 64"]),
        ("{number:.65f}", ["precision 65 is too large"]),
        ("{seed:0" + "9" * 100 + "}", ["width 999999999... is too large"]),
        ("{seed:" + "9" * 5000 + "}", ["5007 characters", "at most 200 characters"]),
        ("{seed.__class__}", ["{seed.__class__}", "attribute and index access are not allowed"]),
        ("{seed[0]}", ["attribute and index access"]),
        ("{seed:{number}}", ["fields inside a format spec are not allowed"]),
        ("{title:d}", ["cannot be filled in", "Unknown format code 'd'"]),
        ("{number:>>>4}", ["not a format spec Python understands"]),
        ("{number!x}", ["the conversion must be !s, !r or !a"]),
        ("{}", ["{} needs a field name"]),
        ("{0}", ["unknown field {0}"]),
        ("Variation {number", ["write a literal brace as {{"]),
    ],
)
def test_label_template_format_specs_are_bounded(
    problems: Callable[[str], list[ShowIssue]], template: str, words: list[str]
) -> None:
    found = problems(f"[display]\nlabel_template = '''{template}'''")
    assert {i.path for i in found} == {"display.label_template"}
    message = " ".join(i.message for i in found)
    for word in words:
        assert word in message, message


def test_good_label_templates_load(write_show: Callable[[str], Path]) -> None:
    for template in (
        "{number:>4} · {seed:08x}",
        "{title!r:^20} {faces:.3}",
        "{{literal}} {seed:,}",
    ):
        show = load_show(write_show(f"[display]\nlabel_template = '{template}'\n"))
        assert show.display.label_template == template


@pytest.mark.parametrize(
    ("port", "words"),
    [
        ("loop://", ["'loop://'", "serial URLs", "cannot be opened by the dice reader"]),
        ("socket://127.0.0.1:7000", ["serial URLs"]),
        ("rfc2217://10.0.0.2:2217", ["serial URLs"]),
        ("usb:2341:0043@99999999999999999", ["baud 99999999999999999", "300 to 4000000"]),
        ("/dev/ttyACM0@0", ["/dev/ttyACM0@0", "expected a device path"]),
        ("/dev/ttyACM0@9600x", ["expected a device path"]),
        ("/dev/ttyACM0@" + "9" * 5000, ["expected a device path"]),
        ("/dev/ttyACM0@\u00b2", ["expected a device path"]),
        ("ttyACM0", ["expected a device path such as '/dev/ttyACM0'"]),
        (" /dev/ttyACM0", ["expected a device path"]),
        ("COM3", ["expected a device path"]),
        ("auto", ["expected a device path"]),
    ],
)
def test_dice_ports_the_reader_cannot_open_are_refused(
    problem: Problem, port: str, words: list[str]
) -> None:
    issue = problem(f"[dice]\nports = ['{port}']")
    assert issue.path == "dice.ports[0]", str(issue)
    for word in words:
        assert word in issue.message, str(issue)


def test_a_port_that_exists_must_be_a_device(problem: Problem, tmp_path: Path) -> None:
    plain = tmp_path / "not-a-tty"
    plain.write_text("")
    issue = problem(f"[dice]\nports = ['{plain}']")
    assert issue.path == "dice.ports[0]"
    assert "which is a regular file; expected a serial device" in issue.message


def test_ports_the_reader_opens_are_accepted(write_show: Callable[[str], Path]) -> None:
    """A real terminal device (a pty), a device not plugged in yet, USB ids, @BAUD."""
    master, slave = os.openpty()
    try:
        tty = os.ttyname(slave)
        ports = [tty, f"{tty}@9600", "/dev/not-plugged-in-yet", "usb:2341:0043:ABC@57600"]
        show = load_show(write_show(f"[dice]\nports = {ports!r}\n"))
    finally:
        os.close(master)
        os.close(slave)
    assert show.dice.ports == ports


def test_the_format_check_itself_survives_any_width() -> None:
    """Without the length limit in front: no int() of 5,000 digits, no gigabyte string."""
    from installation.show.format_check import template_problems
    from installation.show.rules import LABEL_SAMPLES

    found = list(template_problems("{seed:" + "9" * 5000 + "}", LABEL_SAMPLES))
    assert len(found) == 1 and "width 999999999... is too large; at most 64" in found[0]


def test_thousands_of_problems_list_the_first_hundred_and_a_count(
    write_show: Callable[[str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    from installation import cli

    folder = write_show("[dice]\n" + "".join(f"cuont{i} = 1\n" for i in range(5000)))
    assert cli.main(["validate", str(folder)]) == 2
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 101
    assert lines[0].endswith(":2: dice.cuont0: unknown key 'cuont0'. Did you mean 'count'?")
    assert lines[-1].endswith(
        "show.toml: 4900 more problems not listed; fix these and validate again"
    )
    assert "5000 problems; the show was not loaded" in err
