"""The OSC namespace as data, plus the pure helpers around it.

Control addresses (what the installation listens to), cue events (what it sends)
with their default addresses and arguments, per-target templates, allow-lists and
"host:port" parsing. No sockets or IO: the show schema validates with these functions
(the Annotated types at the end), and tests use them without any network.
"""

from __future__ import annotations

import ipaddress
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator

PREFIX = "/installation"

# -- control namespace (incoming) -----------------------------------------------------
THROW = f"{PREFIX}/throw"
ROLL = f"{PREFIX}/roll"
BLACKOUT = f"{PREFIX}/blackout"
RESUME = f"{PREFIX}/resume"
RELOAD = f"{PREFIX}/reload"
STATUS = f"{PREFIX}/status"
PING = f"{PREFIX}/ping"
OPEN = f"{PREFIX}/open"  # force open now: [duration string], else until the next change
CLOSE = f"{PREFIX}/close"
SCHEDULE = f"{PREFIX}/schedule"  # end an open/close override
# replies (outgoing, to the sender)
PONG = f"{PREFIX}/pong"
ERROR = f"{PREFIX}/error"

CONTROL_ADDRESSES = (THROW, ROLL, BLACKOUT, RESUME, RELOAD, STATUS, PING, OPEN, CLOSE, SCHEDULE)


# -- cue events (outgoing) --------------------------------------------------------------
@dataclass(frozen=True)
class CueEvent:
    """One cue event: its default address, default argument templates and meaning."""

    name: str
    args: tuple[str, ...]
    meaning: str

    @property
    def address(self) -> str:
        return f"{PREFIX}/{self.name}"


# Faces expand to one int per die where a default lists "{faces*}".
CUE_EVENTS: dict[str, CueEvent] = {
    e.name: e
    for e in (
        CueEvent("started", (), "a die started rolling: a throw is on its way"),
        CueEvent("landed", ("{faces*}",), "a throw committed; one int per die"),
        CueEvent("ready", ("{number}", "s:{seed}"), "the image is rendered; crossfade begins"),
        CueEvent(
            "shown",
            ("{number}", "s:{seed}", "{faces*}"),
            "the image reaches the screen (bundle timetag = that moment)",
        ),
        CueEvent("cancelled", (), "the dice were picked up or timed out"),
        CueEvent("attract", (), "idle: attract mode invites a throw"),
        CueEvent("standby", (), "the installation is closed (dice ignored)"),
        CueEvent("open", (), "opening time: the installation opens"),
        CueEvent("close", (), "closing time: the installation closes"),
        CueEvent("heartbeat", ("{beat}",), "every heartbeat_s seconds; beat counts up from 1"),
    )
}

# Fields a template may use. dieN (1..8) is the face of die N, 0 when absent.
TEMPLATE_FIELDS = ("event", "number", "seed", "faces", "beat", *(f"die{n}" for n in range(1, 9)))
ARG_TYPES = ("i", "h", "f", "s")
_ADDRESS_CHARS = re.compile(r"^/[^\s#*,?\[\]{}]*$")
INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
# widths and precisions in a template's format specs: `{number:>999999999}` would pad to a
# gigabyte on every cue (and in validate, which fills each template once)
MAX_SPEC_NUMBER = 64
_SPEC_NUMBER = re.compile(r"\d+")


def cue_fields(
    event: str,
    faces: tuple[int, ...] = (),
    seed: int | None = None,
    number: int | None = None,
    beat: int = 0,
) -> dict[str, object]:
    """The values templates can refer to. Missing numbers are 0, missing faces ''."""
    fields: dict[str, object] = {
        "event": event,
        "number": number if number is not None else 0,
        "seed": seed if seed is not None else 0,
        "faces": "-".join(str(f) for f in faces),
        "beat": beat,
    }
    for n in range(1, 9):
        fields[f"die{n}"] = faces[n - 1] if n <= len(faces) else 0
    return fields


def _template_names(template: str) -> list[str]:
    """Field names used by a str.format template; ValueError if it is not one or if a
    format spec nests a field or asks for a width or precision over MAX_SPEC_NUMBER.
    (show/format_check.py does this for the label; osc cannot import show.)"""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as e:
        raise ValueError(
            f"template {template!r} is not valid: {e} (write {{{{ and }}}} for literal braces)"
        ) from None
    for _, name, spec, _ in parsed:
        if name is None or not spec:
            continue
        field = _short(f"{{{name}:{spec}}}")
        if "{" in spec or "}" in spec:  # {number:{seed}}: a width of up to 2**32 at run time
            raise ValueError(
                f"template {_short(template)!r}: {field} nests a field in its format spec; "
                "write the width as a number"
            )
        for digits in _SPEC_NUMBER.findall(spec):
            if len(digits) > 3 or int(digits) > MAX_SPEC_NUMBER:
                raise ValueError(
                    f"template {_short(template)!r}: {field} asks for width or precision "
                    f"{_short(digits, 12)}; at most {MAX_SPEC_NUMBER}"
                )
    return [name for _, name, _, _ in parsed if name is not None]


def _short(text: str, most: int = 40) -> str:
    return text if len(text) <= most else text[: most - 3] + "..."


def check_template(template: str) -> None:
    """Raise ValueError naming unknown or positional fields in a template."""
    for name in _template_names(template):
        if name not in TEMPLATE_FIELDS:
            raise ValueError(
                f"template {template!r} uses {{{name}}}; known fields: "
                + ", ".join("{" + f + "}" for f in TEMPLATE_FIELDS)
            )
    try:
        template.format(**cue_fields("shown", (1,) * 8, 1, 1, 1))
    except (ValueError, TypeError, KeyError, IndexError) as e:
        raise ValueError(f"template {template!r} cannot be filled in: {e}") from None


def check_address_templates(templates: Mapping[str, str]) -> dict[str, str]:
    """Validate per-event address templates ('' mutes that event for the target)."""
    for event, template in templates.items():
        _check_event(event)
        if template == "":
            continue
        check_template(template)
        if not template.startswith("/"):
            raise ValueError(f"address for {event!r} is {template!r}; it must start with '/'")
        sample = template.format(**cue_fields(event, (1,) * 8, 1, 1, 1))
        if not _ADDRESS_CHARS.match(sample):
            raise ValueError(
                f"address for {event!r} is {template!r}; OSC addresses may not contain spaces "
                "or any of # * , ? [ ] { }"
            )
    return dict(templates)


def check_arg_templates(templates: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """Validate per-event argument templates: '[type:]template', type one of i h f s."""
    for event, args in templates.items():
        _check_event(event)
        for arg in args:
            _, body = split_arg_type(arg)
            if body != "{faces*}":
                check_template(body)
    return {k: list(v) for k, v in templates.items()}


def _check_event(event: str) -> None:
    if event not in CUE_EVENTS:
        raise ValueError(f"unknown cue event {event!r}; events are: {', '.join(CUE_EVENTS)}")


def split_arg_type(arg: str) -> tuple[str | None, str]:
    """'i:{number}' -> ('i', '{number}'); no prefix -> (None, arg)."""
    if len(arg) >= 2 and arg[1] == ":" and arg[0] in ARG_TYPES:
        return arg[0], arg[2:]
    return None, arg


def render_args(templates: Iterable[str], fields: Mapping[str, object]) -> list[tuple[str, object]]:
    """Argument templates -> typed OSC arguments [(type tag, value)].

    Without a type prefix a value that reads as an int32 is sent as 'i', as a number
    as 'f', anything else as 's'. '{faces*}' expands to one 'i' per die.
    """
    out: list[tuple[str, object]] = []
    faces = [int(f) for f in str(fields.get("faces", "")).split("-") if f]
    for arg in templates:
        kind, body = split_arg_type(arg)
        if body == "{faces*}":
            out += [("i", f) for f in faces]
            continue
        out.append(_typed(kind, body.format(**fields)))
    return out


def _number(text: str) -> int | float | None:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return None


def _typed(kind: str | None, text: str) -> tuple[str, object]:
    """Type one rendered argument; text that cannot take the asked type stays a string."""
    number = _number(text) if kind != "s" else None
    if number is None or kind == "s":
        return "s", text
    if kind in ("i", "h"):
        lo, hi = INT32 if kind == "i" else INT64
        return kind, min(max(int(number), lo), hi)
    if kind == "f":
        return "f", float(number)
    if isinstance(number, int):  # no prefix: ints beyond int32 (seeds) stay exact as text
        return ("i", number) if INT32[0] <= number <= INT32[1] else ("s", text)
    return "f", number


def render_cue(
    event: str,
    fields: Mapping[str, object],
    addresses: Mapping[str, str] | None = None,
    args: Mapping[str, list[str]] | None = None,
) -> tuple[str, list[tuple[str, object]]] | None:
    """(address, typed args) for one event and target; None when the target mutes it."""
    spec = CUE_EVENTS[event]
    template = (addresses or {}).get(event, spec.address)
    if template == "":
        return None
    arg_templates = (args or {}).get(event, list(spec.args))
    return template.format(**fields), render_args(arg_templates, fields)


# -- who may control ---------------------------------------------------------------------
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_allow(entries: Iterable[str]) -> list[Network]:
    """IPs or CIDRs -> networks; ValueError naming the bad entry."""
    nets: list[Network] = []
    for entry in entries:
        try:
            nets.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(
                f"allow entry {entry!r} is not an IP address or CIDR; "
                "write e.g. '192.168.1.20' or '192.168.1.0/24'"
            ) from None
    return nets


def is_allowed(ip: str, allow: Iterable[Network]) -> bool:
    """Loopback is always allowed; otherwise the sender must be in one of the networks."""
    try:
        addr = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    if addr.is_loopback:
        return True
    return any(addr.version == net.version and addr in net for net in allow)


def parse_hostport(text: str, what: str = "listen") -> tuple[str, int]:
    """'0.0.0.0:9000' -> ('0.0.0.0', 9000). Numeric IPv4 only; port 0..65535."""
    hint = f"{what} must be 'IP:port' with a numeric IPv4 address, e.g. '0.0.0.0:9000'"
    host, sep, port_text = text.strip().rpartition(":")
    if not sep or not port_text.isdigit():
        raise ValueError(f"{what} {text!r} is not IP:port; {hint}")
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        raise ValueError(f"{what} host {host!r} is not a numeric IPv4 address; {hint}") from None
    port = int(port_text)
    if not 0 <= port <= 65535:
        raise ValueError(f"{what} port {port} is out of range; ports run from 1 to 65535")
    return host, port


def check_numeric_host(host: str) -> str:
    """A numeric IP (python-osc would resolve names on every send)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(
            f"host {host!r} is not a numeric IP address; write e.g. '192.168.1.30' "
            "(names are not accepted: resolving them on every cue can stall)"
        ) from None
    return host


# -- types for the show schema (pydantic runs the checks above and reports the key path) --
def _listen(text: str) -> str:
    if text != "":
        parse_hostport(text)
    return text


def _allow(entries: list[str]) -> list[str]:
    parse_allow(entries)
    return entries


ListenAddress = Annotated[str, AfterValidator(_listen)]
AllowList = Annotated[list[str], AfterValidator(_allow)]
NumericHost = Annotated[str, AfterValidator(check_numeric_host)]
AddressTemplates = Annotated[dict[str, str], AfterValidator(check_address_templates)]
ArgTemplates = Annotated[dict[str, list[str]], AfterValidator(check_arg_templates)]
