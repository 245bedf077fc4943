"""The OSC namespace as data: templates, typed arguments, allow-lists, schema checks."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from installation.osc import addresses as A
from installation.osc.targets import OscTarget
from installation.show.schema import OscSection


def test_default_cues_render_documented_addresses_and_args() -> None:
    fields = A.cue_fields("shown", (3, 5), seed=3_000_000_000, number=17)
    rendered = A.render_cue("shown", fields)
    assert rendered is not None
    address, args = rendered
    assert address == "/installation/shown"
    # seeds run to 2**32 - 1, beyond int32: sent as exact text by default
    assert args == [("i", 17), ("s", "3000000000"), ("i", 3), ("i", 5)]
    assert A.render_cue("landed", A.cue_fields("landed", (1, 6))) == (
        "/installation/landed",
        [("i", 1), ("i", 6)],
    )
    assert A.render_cue("started", A.cue_fields("started")) == ("/installation/started", [])


def test_target_templates_override_address_and_args() -> None:
    fields = A.cue_fields("shown", (2, 4), seed=99, number=10)
    rendered = A.render_cue(
        "shown",
        fields,
        {"shown": "/cue/{number}/go"},
        {"shown": ["{die2}", "f:{number}", "s:{number}", "h:{seed}", "{faces}", "x{die1}"]},
    )
    assert rendered == (
        "/cue/10/go",
        [("i", 4), ("f", 10.0), ("s", "10"), ("h", 99), ("s", "2-4"), ("s", "x2")],
    )


def test_empty_address_mutes_the_event_for_that_target() -> None:
    assert A.render_cue("heartbeat", A.cue_fields("heartbeat", beat=3), {"heartbeat": ""}) is None


@pytest.mark.parametrize(
    ("kind_and_text", "expected"),
    [
        ("{number}", ("i", 7)),
        ("2.5", ("f", 2.5)),
        ("i:2.9", ("i", 2)),  # forced int: truncated
        ("i:99999999999", ("i", 2**31 - 1)),  # clamped to int32, never an encoding error
        ("f:{number}", ("f", 7.0)),
        ("i:hello", ("s", "hello")),  # cannot be an int: stays text
        ("hello", ("s", "hello")),
    ],
)
def test_argument_typing(kind_and_text: str, expected: tuple[str, object]) -> None:
    assert A.render_args([kind_and_text], A.cue_fields("shown", number=7)) == [expected]


@pytest.mark.parametrize(
    ("templates", "message"),
    [
        ({"shwn": "/a"}, "unknown cue event 'shwn'"),
        ({"shown": "cue/1"}, "must start with '/'"),
        ({"shown": "/cue/{numbr}"}, "uses {numbr}"),
        ({"shown": "/cue {number}"}, "may not contain spaces"),
        ({"shown": "/cue/{number"}, "is not valid"),
        ({"shown": "/cue/{faces:d}"}, "cannot be filled in"),
    ],
)
def test_bad_address_templates_are_named(templates: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError) as info:
        A.check_address_templates(templates)
    assert message in str(info.value)


def test_bad_arg_templates_are_named() -> None:
    with pytest.raises(ValueError, match=r"uses \{sede\}"):
        A.check_arg_templates({"shown": ["{sede}"]})
    assert A.check_arg_templates({"landed": ["{faces*}", "s:{event}"]})


def test_allow_list_loopback_always_and_cidr() -> None:
    nets = A.parse_allow(["192.168.1.0/24", "10.0.0.5"])
    assert A.is_allowed("127.0.0.1", [])
    assert A.is_allowed("127.0.0.2", [])
    assert A.is_allowed("::1", [])
    assert A.is_allowed("192.168.1.77", nets)
    assert A.is_allowed("10.0.0.5", nets)
    assert A.is_allowed("::ffff:192.168.1.9", nets)  # v4-mapped senders match v4 rules
    assert not A.is_allowed("10.0.0.6", nets)
    assert not A.is_allowed("192.168.2.1", nets)
    assert not A.is_allowed("not-an-ip", nets)


def test_parse_allow_and_hostport_name_the_bad_value() -> None:
    with pytest.raises(ValueError, match=r"allow entry 'lan' is not an IP address or CIDR"):
        A.parse_allow(["lan"])
    assert A.parse_hostport("0.0.0.0:9000") == ("0.0.0.0", 9000)
    with pytest.raises(ValueError, match="not IP:port"):
        A.parse_hostport("9000")
    with pytest.raises(ValueError, match="'localhost' is not a numeric IPv4"):
        A.parse_hostport("localhost:9000")
    with pytest.raises(ValueError, match="out of range"):
        A.parse_hostport("127.0.0.1:70000")


def test_schema_reports_osc_mistakes_with_their_key_path() -> None:
    with pytest.raises(ValidationError) as info:
        OscSection.model_validate(
            {
                "listen": "localhost:9000",
                "allow": ["192.168.1.0/33"],
                "targets": [{"name": "lights", "host": "lights.local", "port": 7000}],
            }
        )
    errors = {".".join(str(p) for p in e["loc"]): e["msg"] for e in info.value.errors()}
    assert set(errors) == {"listen", "allow", "targets.0.host"}
    assert "numeric" in errors["targets.0.host"]
    assert OscSection.model_validate({"listen": ""}).listen == ""  # empty: no remote control


def test_schema_accepts_templates_from_toml_shape() -> None:
    target = OscTarget.model_validate(
        {
            "name": "lights",
            "host": "192.168.1.40",
            "port": 7000,
            "addresses": {"shown": "/cue/{number}/go", "heartbeat": ""},
            "args": {"shown": []},
        }
    )
    assert target.addresses["shown"] == "/cue/{number}/go"
    with pytest.raises(ValidationError, match="unknown cue event 'show'"):
        OscTarget.model_validate(
            {"name": "l", "host": "10.0.0.1", "port": 7000, "args": {"show": ["{number}"]}}
        )


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("/a/{number:>999999999}", "width or precision 999999999; at most 64"),
        ("/a/{seed:.99999f}", "width or precision 99999; at most 64"),
        ("/a/{number:>65}", "width or precision 65; at most 64"),
        ("/a/{number:" + "9" * 5000 + "}", "width or precision 999999999...; at most 64"),
        ("/a/{number:{seed}}", "nests a field in its format spec"),
    ],
)
def test_format_specs_in_templates_are_bounded_before_anything_is_filled_in(
    template: str, message: str
) -> None:
    """validate fills each template once with sample values: an unbounded width would
    allocate a gigabyte there (and on every cue); a nested field would take the seed
    (up to 2**32) as a width at run time."""
    import tracemalloc

    tracemalloc.start()
    try:
        for check in (
            lambda: A.check_address_templates({"shown": template}),
            lambda: A.check_arg_templates({"shown": [template.removeprefix("/a/")]}),
        ):
            with pytest.raises(ValueError, match=message):
                check()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16_000_000  # the unbounded spec allocated about 1 GB
    with pytest.raises(ValidationError, match=r"at most 64|nests a field"):
        OscTarget(name="s", host="127.0.0.1", port=9001, addresses={"shown": template})


def test_small_format_specs_stay_allowed() -> None:
    A.check_address_templates({"shown": "/cue/{number:03d}/{die1:0>2}"})
    A.check_arg_templates({"shown": ["f:{number:.2f}", "{seed:>64}"]})
