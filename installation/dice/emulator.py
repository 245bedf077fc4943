"""A pseudo-terminal that behaves like the dice firmware: rehearsals without hardware, and tests.

The emulator owns the master side of a pty; the host opens the slave path like a
USB serial port. It sends HELLO at "boot" and heartbeats, answers ?HELLO and
?STATE, plays throws and injects faults. `unplug()` closes the master, which the
host sees exactly like a yanked USB cable; `replug()` makes a new pty. With
`link=`, a symlink that points at the current pty while plugged in stands in for
/dev/serial/by-id/..., so the host finds the device again after a replug.
"""

from __future__ import annotations

import contextlib
import os
import random
import select
import threading
import time
import tty
from collections.abc import Callable
from pathlib import Path

from installation.core.throws import DieEvent, DieState
from installation.dice.protocol import (
    MAX_DICE,
    MAX_FACES,
    PROTOCOL_VERSION,
    LineSplitter,
    encode,
    encode_event,
)


class Emulator:
    """Firmware stand-in on a pty. Every send is dropped quietly while unplugged or silent."""

    def __init__(
        self,
        dice: int = 2,
        *,
        faces: int = 6,
        firmware: str = "emulator-1.0",
        version: int = PROTOCOL_VERSION,
        link: str | Path | None = None,
        heartbeat_s: float = 0.5,
        seed: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 1 <= dice <= MAX_DICE:
            raise ValueError(f"dice must be 1..{MAX_DICE}, got {dice}")
        if not 2 <= faces <= MAX_FACES:
            raise ValueError(f"faces must be 2..{MAX_FACES}, got {faces}")
        self.dice = dice
        self.faces = faces
        self.firmware = firmware
        self.version = version
        self.link = Path(link) if link else None
        self.heartbeat_s = heartbeat_s
        self.clock = clock
        self.received: list[bytes] = []  # host commands, for tests
        self.states: list[tuple[DieState, int]] = [(DieState.LANDED, 1)] * dice
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        self._master: int | None = None
        self._slave: int | None = None
        self._pty_path = ""
        self._silent_until = 0.0
        self._boot = clock()
        self._stop = threading.Event()
        self._plug()
        self._thread = threading.Thread(target=self._serve, name="dice-emulator", daemon=True)
        self._thread.start()

    def __repr__(self) -> str:
        plugged = "plugged" if self._master is not None else "unplugged"
        return f"<Emulator {self.path} {plugged} dice={self.dice} fw={self.firmware}>"

    @property
    def path(self) -> str:
        """What the host should open: the stable link if there is one, else the pty."""
        return str(self.link) if self.link else self._pty_path

    @property
    def pty_path(self) -> str:
        return self._pty_path

    @property
    def plugged(self) -> bool:
        return self._master is not None

    @property
    def master_fd(self) -> int | None:
        """The pty master this emulator serves now (None while unplugged)."""
        return self._master

    @property
    def serving_thread(self) -> threading.Thread:
        return self._thread

    # -- what a visitor does ---------------------------------------------------------
    def throw(
        self,
        faces: list[int] | tuple[int, ...],
        rolling_ms: int = 200,
        crooked: int | None = None,
        crooked_ms: int = 200,
    ) -> None:
        """Every die rolls, (one leans crooked for a while), then all land on `faces`."""
        if len(faces) != self.dice:
            raise ValueError(f"throw needs {self.dice} faces, got {len(faces)}: {list(faces)}")
        for die in range(1, self.dice + 1):
            self.set_state(die, DieState.ROLLING)
        time.sleep(rolling_ms / 1000)
        if crooked is not None:
            self.set_state(crooked, DieState.CROOKED)
            time.sleep(crooked_ms / 1000)
        for die, face in enumerate(faces, start=1):
            self.set_state(die, DieState.LANDED, face)

    def pick_up(self, die: int) -> None:
        self.set_state(die, DieState.HANDLING)

    def set_state(self, die: int, state: DieState, face: int = 0) -> None:
        """Report one die's state (what the firmware does on every change)."""
        if not 1 <= die <= self.dice:
            raise ValueError(f"die must be 1..{self.dice}, got {die}")
        face = face if state is DieState.LANDED else 0
        if state is DieState.LANDED and not 1 <= face <= self.faces:
            raise ValueError(f"a landed die shows 1..{self.faces}, got {face}")
        self.states[die - 1] = (state, face)
        self.send(encode_event(DieEvent(die, state, face, self._t_ms())))

    # -- faults ----------------------------------------------------------------------
    def inject_noise(self, size: int = 60) -> None:
        """Electrical noise: random bytes (high bytes, controls), an over-long line, a newline."""
        junk = bytes(self._rng.randrange(256) for _ in range(size)).replace(b"\n", b"")
        self.send(junk + b"\n" + b"#" * 200 + b"\n")

    def bad_checksum(self) -> None:
        """A DIE frame whose checksum is wrong: the host must drop it."""
        line = encode("DIE", self._t_ms(), 1, "LANDED", 6)
        bad = line[:-3] + (b"00" if line[-3:-1] != b"00" else b"11") + b"\n"
        self.send(bad)

    def error(self, code: str, text: str) -> None:
        self.send(encode("ERR", code, text))

    def silence(self, seconds: float) -> None:
        """Send nothing at all (not even heartbeats) for a while: a hung device."""
        self._silent_until = self.clock() + seconds

    def unplug(self) -> None:
        """Pull the cable: the host's next read fails like a vanished USB device.

        The link goes too, as udev removes /dev/serial/by-id/... : the kernel hands the
        freed pty number to the next process that opens a pty, and a link left behind
        would lead the host to that stranger's device.
        """
        with self._lock:
            if self.link and self.link.is_symlink():
                self.link.unlink()
            for fd in (self._master, self._slave):
                if fd is not None:
                    os.close(fd)
            self._master = self._slave = None

    def replug(self) -> None:
        """Plug back in: a new pty (the link follows it) and a fresh boot HELLO."""
        with self._lock:
            if self._master is None:
                self._plug()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.unplug()
        if self.link and self.link.is_symlink():
            self.link.unlink()

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- wire ------------------------------------------------------------------------
    def send(self, data: bytes) -> None:
        """Write raw bytes to the host; lost if unplugged, silent or nobody reads (full)."""
        with self._lock:
            if self._master is None or self.clock() < self._silent_until:
                return
            # A full buffer (no reader) loses bytes, as a real UART would.
            with contextlib.suppress(OSError):
                os.write(self._master, data)

    def send_all(self, data: bytes, timeout_s: float = 10.0) -> int:
        """Write every byte, waiting while the host catches up (as a device with flow
        control would), until done, unplugged or `timeout_s` passed. Returns bytes written.

        Heartbeats and answers wait meanwhile, so no line is cut by another."""
        end = time.monotonic() + timeout_s
        view, done = memoryview(data), 0
        with self._lock:
            master = self._master
            while master is not None and done < len(data) and time.monotonic() < end:
                try:
                    select.select([], [master], [], 0.05)
                    done += os.write(master, view[done : done + 4096])
                except BlockingIOError:
                    continue
                except (OSError, ValueError):
                    break
        return done

    def hello(self) -> None:
        self.send(encode("HELLO", self.version, self.firmware, self.dice))

    def _plug(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        self._pty_path = os.ttyname(slave)
        if self.link:
            tmp = self.link.with_name(self.link.name + ".tmp")
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(self._pty_path)
            os.replace(tmp, self.link)
        self._boot = self.clock()
        self.hello()

    def _t_ms(self) -> int:
        return int((self.clock() - self._boot) * 1000) % 2**32

    def _serve(self) -> None:
        """Answer host commands and send heartbeats until closed."""
        splitter = LineSplitter()
        next_hb = self.clock()
        while not self._stop.is_set():
            for line in splitter.feed(self._receive()):
                if isinstance(line, bytes):
                    self._command(line)
            if self.clock() >= next_hb:
                self.send(encode("HB", self._t_ms()))
                next_hb = self.clock() + self.heartbeat_s

    def _receive(self) -> bytes:
        """What the host wrote, waiting up to 20 ms; b"" if nothing or unplugged.

        unplug() may close the master while we wait and replug() may get the same fd
        number for another file, so the read happens under the lock and only on the
        master that is current then: never on a closed or recycled fd.
        """
        master = self._master
        if master is None:
            self._stop.wait(0.02)
            return b""
        try:  # on a stale number this only wakes early or late: harmless
            ready, _, _ = select.select([master], [], [], 0.02)
        except (OSError, ValueError):
            return b""
        with self._lock:
            if not ready or self._master != master:
                return b""
            try:
                return os.read(master, 4096)
            except OSError:
                return b""

    def _command(self, line: bytes) -> None:
        self.received.append(line)
        if line == b"?HELLO":
            self.hello()
        elif line == b"?STATE":
            for die, (state, face) in enumerate(self.states, start=1):
                self.send(encode_event(DieEvent(die, state, face, self._t_ms())))


COMMANDS = """commands (one per line; # starts a comment):
  throw F1 F2 ... [crooked=D]   all dice roll, then land on these faces
  roll D | land D F | crooked D | pickup D   one die's state
  noise | badsum | error CODE TEXT           faults on the wire
  silence SECONDS | unplug | replug          a hung or yanked device
  hello | sleep SECONDS | quit"""


def run_command(emu: Emulator, line: str) -> bool:
    """Carry out one typed or scripted command. False means quit; ValueError explains misuse."""
    words = line.split("#", 1)[0].split()
    if not words:
        return True
    cmd, args = words[0].lower(), words[1:]
    try:
        return _dispatch(emu, cmd, args)
    except (ValueError, IndexError) as e:
        raise ValueError(f"{line.strip()!r}: {e or 'missing argument'}\n{COMMANDS}") from None


def _dispatch(emu: Emulator, cmd: str, args: list[str]) -> bool:
    simple: dict[str, Callable[[], None]] = {
        "noise": emu.inject_noise,
        "badsum": emu.bad_checksum,
        "unplug": emu.unplug,
        "replug": emu.replug,
        "hello": emu.hello,
    }
    if cmd in simple and not args:
        simple[cmd]()
    elif cmd == "quit":
        return False
    elif cmd == "throw":
        faces = [int(a) for a in args if "=" not in a]
        opts = dict(a.split("=", 1) for a in args if "=" in a)
        crooked = int(opts.pop("crooked")) if "crooked" in opts else None
        if opts:
            raise ValueError(f"unknown option {next(iter(opts))!r}; accepted: crooked=D")
        emu.throw(faces, crooked=crooked)
    elif cmd in ("roll", "crooked", "pickup") and len(args) == 1:
        state = {"roll": DieState.ROLLING, "crooked": DieState.CROOKED}.get(cmd, DieState.HANDLING)
        emu.set_state(int(args[0]), state)
    elif cmd == "land" and len(args) == 2:
        emu.set_state(int(args[0]), DieState.LANDED, int(args[1]))
    elif cmd == "error" and len(args) >= 2:
        emu.error(args[0], " ".join(args[1:]))
    elif cmd in ("silence", "sleep") and len(args) == 1:
        seconds = float(args[0])
        if not 0 <= seconds <= 3600:
            raise ValueError(f"seconds must be 0..3600, got {args[0]}")
        if cmd == "silence":
            emu.silence(seconds)
        else:
            time.sleep(seconds)
    else:
        raise ValueError(f"unknown command or wrong arguments: {cmd} {' '.join(args)}".strip())
    return True
