"""Cross-field rules: each one reported on the right key and line, with a useful message."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from installation.errors import ShowIssue
from installation.show import rules
from installation.show.load import load_show
from installation.show.path_rules import model_warnings

Problem = Callable[[str], ShowIssue]
SIX = '["a", "b", "c", "d", "e", "f"]'

CASES = [
    # (show.toml, line, key path, words the message must contain)
    (
        "[artwork]\npaintings = ['art/p.png', 'art/gone.png']",
        2,
        "artwork.paintings[1]",
        ["'art/gone.png'", "not found", "myshow/art/gone.png"],
    ),
    (
        "[artwork]\npaintings = [\n  'art/p.png',\n  'show.toml',\n]",
        4,
        "artwork.paintings[1]",
        ["'show.toml'", "is not a readable image"],
    ),
    ("[artwork]\npaintings = ['art']", 2, "artwork.paintings[0]", ["is a folder"]),
    (
        "[artwork]\npaintings = ['art/p.png']\nmask = 'art/mask.png'",
        3,
        "artwork.mask",
        ["mask 'art/mask.png' not found"],
    ),
    ("[artwork]\nmask = 'art/p.png'", 2, "artwork.mask", ["a mask needs a painting"]),
    (
        "[artwork]\npaintings = ['art/p.png']\n[variations]\nsteps = 2\nstrength = 0.3",
        5,
        "variations.strength",
        ["steps 2 x strength 0.3 gives 0", "steps = 4 or more", "strength = 0.5 or more"],
    ),
    (
        "[variations]\nheight = 500",
        2,
        "variations.height",
        ["got 500", "multiple of 8", "496 or 504"],
    ),
    (
        f"[variations]\nprompt = '{{die1}}'\nvariants = [{SIX}, {SIX}, {SIX}]",
        3,
        "variations.variants",
        ["3 lists for 2 dice", "at most 2"],
    ),
    (
        f"[variations]\nprompt = '{{die1}}'\nvariants = [\n  {SIX},\n  ['x', 'y'],\n]",
        5,
        "variations.variants[1]",
        ["die 2's list has 2 entries", "expected 6"],
    ),
    (
        f"[variations]\nprompt = 'a {{die2}}'\nvariants = [{SIX}]",
        2,
        "variations.prompt",
        ["{die2} has no variants list", "add a list of 6 entries for die 2"],
    ),
    (
        f"[variations]\nprompt = '{{die3}}'\nvariants = [{SIX}, {SIX}]",
        2,
        "variations.prompt",
        ["{die3} refers to die 3", "2 dice", "{die1} to {die2}"],
    ),
    (
        "[variations]\nprompt = 'a {colour} sky'",
        2,
        "variations.prompt",
        ["{colour} is not a prompt slot"],
    ),
    (
        "[display]\nlabel_template = 'No. {number} ({dice})'",
        2,
        "display.label_template",
        ["unknown field {dice}", "{number}, {seed}, {faces}, {title}, {artist}, {engine}"],
    ),
    (
        "[display]\nlabel_template = 'No. {number'",
        2,
        "display.label_template",
        ["write a literal brace as {{"],
    ),
    ("[display]\nbackground = '#12345'", 2, "display.background", ["'#12345'", "#rrggbb"]),
    (
        "[variations]\nmodel = 'stabilityai/sd-turbo'",
        2,
        "variations.model",
        [
            "looks like a Hugging Face repo id",
            "`installation models pull stabilityai/sd-turbo --to models/sd-turbo`",
        ],
    ),
    ("[variations]\nengine = 'diffusers'", 2, "variations.engine", ["needs a model"]),
    (
        "[variations]\nmodel = 'art/p.png'",
        1,
        "variations.model_config_dir",
        ["single-file checkpoint", "model_config_dir"],
    ),
    ("[storage]\ndir = 'art/p.png'", 2, "storage.dir", ["is a file", "expected a folder"]),
    ("[safety]\nrequired = true", 2, "safety.required", ["no safety.checker is set"]),
    (
        "[safety]\nblocked_seeds = [1, 4294967296]",
        2,
        "safety.blocked_seeds[1]",
        ["from 0 to 4294967295"],
    ),
    (
        "[safety]\napproved = ['3-5', '3-7']",
        2,
        "safety.approved[1]",
        ["die 2 shows 7", "from 1 to 6"],
    ),
    (
        "[safety]\napproved = [\n '3-5-1',\n]",
        3,
        "safety.approved[0]",
        ["3 faces", "2 dice", "'3-3@1234'"],
    ),
    ("[safety]\napproved = ['3-x@5']", 2, "safety.approved[0]", ["'faces' or 'faces@seed'"]),
    ("[safety]\napproved = ['3-5@seed']", 2, "safety.approved[0]", ["'faces@seed'"]),
    ("[safety]\napproved = ['3-5@99999999999']", 2, "safety.approved[0]", ["too large"]),
    (
        "[dice]\nports = ['/dev/ttyACM0', 'COM3']",
        2,
        "dice.ports[1]",
        ["'COM3'", "/dev/ttyACM0", "usb:VID:PID[:SERIAL]"],
    ),
    ("[dice]\nports = ['usb:2341']", 2, "dice.ports[0]", ["usb:VID:PID[:SERIAL] with 4-digit hex"]),
    ("[dice]\nports = ['usb:23g1:0043']", 2, "dice.ports[0]", ["with 4-digit hex IDs"]),
    ("[dice]\nports = ['usb:1:2']", 2, "dice.ports[0]", ["with 4-digit hex IDs"]),
    # OSC hosts, listen and allow are checked by the schema's validators (osc/addresses.py);
    # these cases pin what the curator sees, whichever layer catches it.
    (
        "[osc]\nlisten = 'localhost:9000'",
        2,
        "osc.listen",
        ["got 'localhost:9000'", "'localhost' is not a numeric IPv4 address", "'0.0.0.0:9000'"],
    ),
    ("[osc]\nlisten = '127.0.0.1'", 2, "osc.listen", ["is not IP:port"]),
    ("[osc]\nlisten = '127.0.0.1:99999'", 2, "osc.listen", ["port 99999 is out of range"]),
    (
        "[osc]\nallow = ['10.0.0.0/8', 'office']",
        2,
        "osc.allow",
        ["'office' is not an IP address or CIDR"],
    ),
    (
        "[[osc.targets]]\nname = 'sound'\nhost = 'mixer.local'\nport = 9000",
        3,
        "osc.targets[0].host",
        ["'mixer.local' is not a numeric IP", "every cue"],
    ),
    (
        "[[osc.targets]]\nname = 'x'\nhost = '10.0.0.1'\nport = 1\n"
        "[[osc.targets]]\nname = 'x'\nhost = '10.0.0.2'\nport = 2",
        6,
        "osc.targets[1].name",
        ["'x' is already used by osc.targets[0]"],
    ),
]


@pytest.mark.parametrize(("text", "line", "path", "words"), CASES, ids=[c[2] for c in CASES])
def test_rule(problem: Problem, text: str, line: int, path: str, words: list[str]) -> None:
    issue = problem(text)
    assert (issue.line, issue.path) == (line, path), str(issue)
    for word in words:
        assert word in issue.message, str(issue)


def test_everything_the_rules_accept(write_show: Callable[[str], Path]) -> None:
    """One show that touches every rule with a good value loads without issues."""
    folder = write_show(
        f"""\
        [artwork]
        paintings = ["art/p.png"]
        mask = "art/p.png"
        [dice]
        ports = ["/dev/ttyACM0", "/dev/serial/by-id/usb-Arduino-if00", "usb:2341:0043",
                 "usb:2341:0043:95530343", "usb:2341:0043@57600", "/dev/ttyACM1@9600"]
        [variations]
        prompt = "{{die1}} and {{die2}}"
        variants = [{SIX}, {SIX}]
        steps = 2
        strength = 0.5
        width = 504
        model = "art"
        [engine]
        tiny_vae = "art"
        [display]
        label_template = "No. {{number}} / {{seed:08d}} {{faces}} {{title}} {{artist}} {{engine}}"
        background = "#a0B0c0"
        [osc]
        listen = "0.0.0.0:9000"
        allow = ["192.168.1.20", "192.168.1.0/24", "fe80::/10"]
        [[osc.targets]]
        name = "sound"
        host = "192.168.1.30"
        port = 9001
        [[osc.targets]]
        name = "lights"
        host = "::1"
        port = 9002
        [safety]
        checker = "art"
        required = true
        blocked_seeds = [0, 4294967295]
        approved = ["1-6", "6-1@4294967295"]
        """
    )
    show = load_show(folder)
    assert show.osc.targets[1].name == "lights"


def test_listen_off_and_default_engine_without_model(write_show: Callable[[str], Path]) -> None:
    show = load_show(write_show("[osc]\nlisten = ''\n"))
    assert show.osc.listen == "" and show.variations.model is None


@pytest.mark.parametrize("engine", ["auto", "diffusers"])
def test_model_paths_that_are_not_there_are_warnings_not_errors(
    write_show: Callable[[str], Path], engine: str
) -> None:
    """A model disk that did not mount: the show runs (fallback engine, tried again every
    minute); validate names each missing path as a warning on its line."""
    show = load_show(
        write_show(
            f"[variations]\nengine = '{engine}'\nmodel = '/nonexistent/sd'\n"
            "model_config_dir = 'art/cfg'\n[engine]\ntiny_vae = 'taesd'\n"
            "[safety]\nchecker = 'art/checker'\n"
        )
    )
    found = dict(model_warnings(show))
    assert list(found) == [
        ("variations", "model"),
        ("variations", "model_config_dir"),
        ("engine", "tiny_vae"),
        ("safety", "checker"),
    ]
    model = found[("variations", "model")]
    assert "'/nonexistent/sd' not found (looked for /nonexistent/sd)" in model
    assert "repo id" not in model and "fallback engine renders until it appears" in model
    assert "mount the model disk or fix the path" in model
    assert "myshow/taesd" in found[("engine", "tiny_vae")]


def test_model_paths_that_can_never_work_are_still_errors(problem: Problem) -> None:
    """A checkpoint without its config, a hub id (a FIFO: test_show_files): no disk fixes it."""
    single = problem("[variations]\nmodel = 'art/p.png'")
    assert single.path == "variations.model_config_dir" and "single-file" in single.message
    hub = problem("[variations]\nengine = 'diffusers'\nmodel = 'org/sd-model'")
    assert hub.path == "variations.model" and "looks like a Hugging Face repo id" in hub.message


def test_a_present_model_has_no_warnings(write_show: Callable[[str], Path]) -> None:
    show = load_show(write_show("[variations]\nmodel = 'art'\n[engine]\ntiny_vae = 'art'\n"))
    assert model_warnings(show) == []


def test_a_path_with_a_nul_character_is_refused_not_crashed(problem: Problem) -> None:
    issue = problem('[engine]\ntiny_vae = "vae\\u0000"\n')
    assert (issue.line, issue.path) == (2, "engine.tiny_vae")
    assert "is not a usable path (it contains a NUL character)" in issue.message


def test_a_rule_that_crashes_refuses_the_show(
    problem: Problem, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(show: object) -> list[tuple[tuple[str | int, ...], str]]:
        raise RuntimeError("bug")

    monkeypatch.setattr(rules, "RULES", [*rules.RULES, (("display.fps",), broken)])
    issue = problem("[display]\nfps = 30\n")
    assert (issue.line, issue.path) == (2, "display.fps")
    assert issue.message == "could not be checked (broken: RuntimeError('bug'))"
