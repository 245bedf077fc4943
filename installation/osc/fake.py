"""In-memory stand-ins and test helpers for the OSC edges.

`FakeCueSender` has CueSender's contract (cue/start/stop/counters/stats) and records
every cue. `LoopbackReceiver` is a real UDP socket on 127.0.0.1 that collects what
arrives, parsed, with arrival times: the other end for cue and reply tests.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

from pythonosc.osc_bundle import OscBundle
from pythonosc.osc_message import OscMessage

from installation.osc.addresses import CUE_EVENTS
from installation.osc.cues import CueRequest


class FakeCueSender:
    """Records cues instead of sending them. Unknown names are counted, as in CueSender."""

    def __init__(self) -> None:
        self.cues: list[CueRequest] = []
        self.running = False
        self._unknown = 0

    def __repr__(self) -> str:
        return f"<FakeCueSender {len(self.cues)} cues {'running' if self.running else 'stopped'}>"

    def cue(
        self,
        name: str,
        *,
        faces: tuple[int, ...] = (),
        seed: int | None = None,
        number: int | None = None,
        at: float | None = None,
    ) -> None:
        if name not in CUE_EVENTS:
            self._unknown += 1
            return
        self.cues.append(CueRequest(name, tuple(faces), seed, number, at))

    def start(self) -> None:
        self.running = True

    def stop(self) -> None:
        self.running = False

    @property
    def names(self) -> list[str]:
        """Cue names in order: the usual assertion."""
        return [c.name for c in self.cues]

    @property
    def counters(self) -> dict[str, int]:
        return {"sent": len(self.cues), "errors": 0, "dropped": 0, "plan_errors": self._unknown}

    def stats(self) -> dict[str, object]:
        return {**self.counters, "queued": 0, "targets": {}}


@dataclass(frozen=True)
class Received:
    """One message that arrived; `timetag` is the enclosing bundle's (None: plain message)."""

    address: str
    params: list[Any]
    timetag: float | None
    arrived: float
    sender: tuple[str, int]


def _flatten(data: bytes) -> list[tuple[OscMessage, float | None]]:
    if OscBundle.dgram_is_bundle(data):
        bundle = OscBundle(data)
        out: list[tuple[OscMessage, float | None]] = []
        for item in bundle:
            if isinstance(item, OscBundle):
                out += [(m, t) for m, t in _flatten(item.dgram)]
            else:
                out.append((item, bundle.timestamp))
        return out
    return [(OscMessage(data), None)]


class LoopbackReceiver:
    """A UDP socket on 127.0.0.1:<free port> collecting OSC messages in a thread."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.settimeout(0.2)
        self.port: int = self.sock.getsockname()[1]
        self.messages: list[Received] = []
        self.raw: list[bytes] = []
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="osc-receiver", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data, sender = self.sock.recvfrom(65536)
            except OSError:
                continue
            now = time.time()
            try:
                items = [
                    Received(m.address, list(m.params), t, now, sender) for m, t in _flatten(data)
                ]
            except Exception:
                items = []
            with self._cond:
                self.raw.append(data)
                self.messages += items
                self._cond.notify_all()

    def wait_for(self, count: int = 1, timeout: float = 2.0) -> list[Received]:
        """Block until `count` messages have arrived (or timeout); all messages so far."""
        with self._cond:
            self._cond.wait_for(lambda: len(self.messages) >= count, timeout)
            return list(self.messages)

    def close(self) -> None:
        self._stop.set()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(b"", self.sock.getsockname())  # wake the thread now, not at its timeout
        self._thread.join(timeout=1.0)
        self.sock.close()

    def __enter__(self) -> LoopbackReceiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
