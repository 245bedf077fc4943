"""The doctor's checks of the links: dice boards (HELLO over serial), OSC cue
targets (a route to each) and projectors (a PJLink greeting). See ops/doctor.py."""

from __future__ import annotations

import ipaddress
import os
import socket
import time

from installation.ops.doctor_checks import SERVICE_USER, Check, Context, fail, ok, skipped, warn


# -- the links: dice, OSC, projectors -----------------------------------------------
def hello_exchange(path: str, baud: int, timeout_s: float) -> str | None:
    """Send ?HELLO (again every 0.5 s: boards reset when opened) and return the first
    $HELLO line within timeout_s, or None. Raises serial.SerialException."""
    import serial

    with serial.Serial(path, baud, timeout=0.05, exclusive=True) as port:
        port.reset_input_buffer()
        deadline = time.monotonic() + timeout_s
        next_send, buf = 0.0, b""
        while time.monotonic() < deadline:
            if time.monotonic() >= next_send:
                port.write(b"?HELLO\n")
                next_send = time.monotonic() + 0.5
            *lines, buf = (buf + port.read(256)).split(b"\n")
            for line in lines:
                text = line.strip().decode("ascii", "replace")
                if text.startswith("$HELLO,"):
                    return text
            buf = buf[-512:]
    return None


def _port_row(ctx: Context, text: str) -> Check:
    from installation.dice import ports
    from installation.errors import DiceError

    name = f"dice {text}"
    try:
        port = ports.parse(text)
        path = ports.resolve(port)
    except DiceError as e:
        return fail(name, str(e), "plug the board in; `installation dice ports` lists ports")
    if not os.access(path, os.R_OK | os.W_OK):
        fix = f"sudo usermod -aG dialout {SERVICE_USER} (or the group that owns {path})"
        return fail(name, f"{path}: no read/write permission", fix)
    baud = port.baud or ctx.show.dice.baud
    try:
        line = hello_exchange(path, baud, ctx.hello_timeout_s)
    except Exception as e:  # SerialException, OSError: busy, vanished, not a tty
        if "lock" in str(e).lower() or "busy" in str(e).lower():
            return warn(name, f"{path} is in use: {e}", "stop the kiosk to test the dice")
        return fail(name, f"{path}: cannot open: {e}", "replug the board")
    if line is None:
        detail = f"{path}: no HELLO answer within {ctx.hello_timeout_s:g} s at {baud} baud"
        return fail(name, detail, "flash the dice firmware; make [dice] baud match it")
    return _hello_row(name, path, line)


def _hello_row(name: str, path: str, line: str) -> Check:
    from installation.dice.protocol import PROTOCOL_VERSION, Hello, decode

    msg = decode(line)
    if not isinstance(msg, Hello):
        return fail(name, f"{path}: garbled HELLO {line!r} ({msg})", "check the baud and cable")
    detail = f"{path}: firmware {msg.firmware}, protocol {msg.version}, {msg.dice} dice"
    if msg.version != PROTOCOL_VERSION:
        fix = f"flash firmware speaking protocol {PROTOCOL_VERSION} (hardware/firmware)"
        return fail(name, f"{detail}; this host speaks {PROTOCOL_VERSION}", fix)
    return ok(name, detail)


def check_serial(ctx: Context) -> Check | list[Check]:
    if ctx.show is None:
        return skipped("dice")
    if not ctx.show.dice.ports:
        return ok("dice", "no serial ports configured (keys, OSC or auto-throw only)")
    return [_port_row(ctx, text) for text in ctx.show.dice.ports]


def _route(host: str, port: int) -> str:
    """The local address a datagram to host:port would leave from (raises OSError)."""
    family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.connect((host, port))
        return str(s.getsockname()[0])


def _target_row(name: str, host: str, port: int, mode: str) -> Check:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return fail(name, f"host {host!r} is not a numeric IP", "use the receiver's IP address")
    try:
        local = _route(host, port)
    except OSError as e:
        fix = "check the network cable, interface and address"
        return fail(name, f"no route to {host}:{port} ({e.strerror or e})", fix)
    return ok(name, f"{host}:{port} reachable from {local} ({mode})")


def check_osc(ctx: Context) -> Check | list[Check]:
    if ctx.show is None:
        return skipped("osc")
    rows = [_target_row(f"osc {t.name}", t.host, t.port, t.mode) for t in ctx.show.osc.targets]
    return rows or ok("osc", "no cue targets configured")


def check_projectors(ctx: Context) -> Check | list[Check]:
    """PJLink greeting from each projector; the show has no projectors section yet."""
    section = getattr(ctx.show, "projectors", None)
    items = getattr(section, "projectors", section)
    if not items:
        return ok("projectors", "none configured (skipped)")
    return [_pjlink_row(str(p.host), int(getattr(p, "port", 4352))) for p in items]


def _pjlink_row(host: str, port: int) -> Check:
    name = f"projector {host}"
    try:
        with socket.create_connection((host, port), timeout=2) as s:
            s.settimeout(2)
            greeting = s.recv(64).decode("ascii", "replace").strip()
    except OSError as e:
        return fail(name, f"{host}:{port}: {e}", "power it on, enable PJLink, check its IP")
    if not greeting.startswith("PJLINK"):
        return fail(name, f"{host}:{port} answered {greeting!r}, not PJLink", "check the port")
    auth = "with a password" if greeting.startswith("PJLINK 1") else "no password"
    return ok(name, f"{host}:{port} speaks PJLink ({auth})")
