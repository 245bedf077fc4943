"""OSC cues out: 'started', 'landed', 'shown' ... to sound and light computers.

`cue()` only puts a request into a queue, so the display loop never waits on the
network. A sender thread renders each request per target (addresses.py holds the
default addresses and arguments; targets may override them with templates) and
sends it: "bundle" targets get a bundle timetagged with the moment the image
reaches the screen, right away; "immediate" targets get a plain message lead_ms
before that moment. The plan (what to send when) is pure: `plan_cue` and
`CueSchedule` are tested with plain numbers for time.
"""

from __future__ import annotations

import heapq
import ipaddress
import logging
import math
import queue
import socket
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, Protocol

from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder

from installation.errors import OscError
from installation.osc import addresses as A
from installation.osc.targets import OscTarget

log = logging.getLogger(__name__)

QUEUE_SIZE = 1000
MAX_WAIT_S = 0.5  # the sender re-reads the clock at least this often (clock jumps)


@dataclass(frozen=True)
class CueRequest:
    """One cue as the app asked for it. `at`: epoch seconds the image reaches the screen."""

    name: str
    faces: tuple[int, ...] = ()
    seed: int | None = None
    number: int | None = None
    at: float | None = None
    beat: int = 0


@dataclass(frozen=True, order=True)
class Outgoing:
    """One datagram for one target, due at `send_at` (epoch seconds)."""

    send_at: float
    seq: int
    target: int = field(compare=False)
    event: str = field(compare=False)
    payload: bytes = field(compare=False, repr=False)


def encode(address: str, args: Sequence[tuple[str, object]]) -> Any:
    """A python-osc OscMessage from typed args [(tag, value)]."""
    builder = OscMessageBuilder(address)
    for tag, value in args:
        builder.add_arg(value, tag)  # type: ignore[arg-type]
    return builder.build()


def plan_cue(target: OscTarget, request: CueRequest, now: float) -> tuple[float, bytes] | None:
    """(send_at, datagram) for one target, or None when the target mutes this event.

    Raises ValueError/KeyError for an unknown event or an unencodable value.
    """
    fields = A.cue_fields(request.name, request.faces, request.seed, request.number, request.beat)
    rendered = A.render_cue(request.name, fields, _addresses(target), _args(target))
    if rendered is None:
        return None
    message = encode(*rendered)
    if target.mode == "bundle":
        bundle = OscBundleBuilder(IMMEDIATELY if request.at is None else request.at)  # type: ignore[arg-type]
        bundle.add_content(message)
        return now, bundle.build().dgram
    if request.at is None:
        return now, message.dgram
    return max(now, request.at - target.lead_ms / 1000.0), message.dgram


def _addresses(target: OscTarget) -> dict[str, str]:
    return dict(getattr(target, "addresses", None) or {})


def _args(target: OscTarget) -> dict[str, list[str]]:
    return dict(getattr(target, "args", None) or {})


class CueSchedule:
    """Pure timing: pending datagrams in send order, and the heartbeat."""

    def __init__(self, targets: Sequence[OscTarget], heartbeat_s: float, now: float) -> None:
        self.targets = list(targets)
        self.heartbeat_s = heartbeat_s
        self.next_beat = now + heartbeat_s if heartbeat_s > 0 else math.inf
        self.beat = 0
        self._heap: list[Outgoing] = []
        self._seq = 0
        self.errors: list[str] = []  # plan failures, drained by the sender for logging

    def __len__(self) -> int:
        return len(self._heap)

    def submit(self, request: CueRequest, now: float) -> None:
        """Plan `request` for every target."""
        for i, target in enumerate(self.targets):
            try:
                planned = plan_cue(target, request, now)
            except Exception as e:  # bad event name, value python-osc cannot encode
                self.errors.append(f"cue {request.name!r} for {target.name}: {e}")
                continue
            if planned is not None:
                self._seq += 1
                heapq.heappush(
                    self._heap, Outgoing(planned[0], self._seq, i, request.name, planned[1])
                )

    def due(self, now: float) -> list[Outgoing]:
        """Everything to send now (heartbeats included), in order."""
        if now >= self.next_beat:
            self.beat += 1
            self.submit(CueRequest("heartbeat", beat=self.beat), now)
            self.next_beat += self.heartbeat_s
            if self.next_beat <= now:  # fell behind (suspend, clock jump): no burst
                self.next_beat = now + self.heartbeat_s
        out: list[Outgoing] = []
        while self._heap and self._heap[0].send_at <= now:
            out.append(heapq.heappop(self._heap))
        return out

    def next_time(self) -> float:
        """When due() next has something (math.inf: nothing pending, no heartbeat)."""
        return min(self._heap[0].send_at if self._heap else math.inf, self.next_beat)


class DatagramSocket(Protocol):
    def sendto(self, data: bytes, address: tuple[str, int], /) -> int: ...
    def close(self) -> None: ...


def _family(host: str) -> int:
    return socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET


def _udp_socket(family: int) -> DatagramSocket:
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.setblocking(False)  # a full send buffer is an error to count, never a wait
    if family == socket.AF_INET:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    return sock


@dataclass
class Link:
    """One target's socket and health; logs a failure once until the target recovers."""

    name: str
    address: tuple[str, int]
    sock: DatagramSocket | None = None
    sent: int = 0
    errors: int = 0
    down: bool = False
    last_error: str = ""

    def send(self, payload: bytes) -> None:
        try:
            if self.sock is None:
                raise OSError("no socket")
            self.sock.sendto(payload, self.address)
        except OSError as e:
            self.errors += 1
            self.last_error = str(e)
            if not self.down:
                self.down = True
                host, port = self.address
                log.warning("OSC cues to %s (%s:%d) failing: %s", self.name, host, port, e)
            return
        self.sent += 1
        if self.down:
            self.down = False
            log.info("OSC cues to %s are getting through again", self.name)

    def stats(self) -> dict[str, object]:
        host, port = self.address
        return {
            "address": f"{host}:{port}",
            "sent": self.sent,
            "errors": self.errors,
            "down": self.down,
            "last_error": self.last_error,
        }


class CueSender:
    """Sends cues to every target from its own thread. cue() never blocks or raises."""

    def __init__(
        self,
        targets: list[OscTarget],
        *,
        heartbeat_s: float = 0.0,
        clock: Callable[[], float] = time.time,
        socket_factory: Callable[[int], DatagramSocket] = _udp_socket,
    ) -> None:
        for t in targets:
            try:
                A.check_numeric_host(t.host)
            except ValueError as e:
                raise OscError(f"osc target {t.name!r}: {e}") from None
        self.targets = list(targets)
        self.heartbeat_s = heartbeat_s
        self.clock = clock
        self._factory = socket_factory
        self.links = [Link(t.name, (t.host, t.port)) for t in targets]
        self._queue: queue.Queue[CueRequest | None] = queue.Queue(QUEUE_SIZE)
        self._lock = threading.Lock()
        self._dropped = 0
        self._plan_errors = 0
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        state = "running" if self._thread and self._thread.is_alive() else "stopped"
        return f"<CueSender {len(self.links)} targets {state} {self.counters}>"

    def cue(
        self,
        name: str,
        *,
        faces: tuple[int, ...] = (),
        seed: int | None = None,
        number: int | None = None,
        at: float | None = None,
    ) -> None:
        """Queue a cue for every target; dropped (and counted) if the queue is full."""
        try:
            self._queue.put_nowait(CueRequest(name, tuple(faces), seed, number, at))
        except Exception:  # queue.Full, or anything odd about the arguments
            with self._lock:
                self._dropped += 1

    def start(self) -> None:
        if self._thread is not None:
            return
        for link in self.links:
            try:
                link.sock = self._factory(_family(link.address[0]))
            except OSError as e:
                link.last_error = str(e)  # counted as errors on every send
        self._thread = threading.Thread(target=self._run, name="osc-cues", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread. Cues queued but not yet due are dropped."""
        if self._thread is None:
            return
        with suppress(queue.Full):
            self._queue.put(None, timeout=1.0)
        self._thread.join(timeout=3.0)
        self._thread = None
        for link in self.links:
            if link.sock is not None:
                link.sock.close()
                link.sock = None

    @property
    def counters(self) -> dict[str, int]:
        with self._lock:
            return {
                "sent": sum(x.sent for x in self.links),
                "errors": sum(x.errors for x in self.links),
                "dropped": self._dropped,
                "plan_errors": self._plan_errors,
            }

    def stats(self) -> dict[str, object]:
        """For the status JSON: totals and per target."""
        with self._lock:
            links = {x.name: x.stats() for x in self.links}
        return {**self.counters, "queued": self._queue.qsize(), "targets": links}

    def _run(self) -> None:
        schedule = CueSchedule(self.targets, self.heartbeat_s, self.clock())
        while True:
            try:
                if not self._step(schedule):
                    return
            except Exception as e:  # the last guard: cues must keep flowing
                log.exception("OSC cue sender: %s", e)
                time.sleep(0.05)

    def _step(self, schedule: CueSchedule) -> bool:
        now = self.clock()
        for out in schedule.due(now):
            with self._lock:
                self.links[out.target].send(out.payload)
        self._drain_errors(schedule)
        wait = min(max(schedule.next_time() - now, 0.0), MAX_WAIT_S)
        try:
            request = self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait()
        except queue.Empty:
            return True
        if request is None:
            return False
        schedule.submit(request, self.clock())
        return True

    def _drain_errors(self, schedule: CueSchedule) -> None:
        if not schedule.errors:
            return
        with self._lock:
            self._plan_errors += len(schedule.errors)
        log.warning("OSC cue not sent: %s", schedule.errors[0])
        schedule.errors.clear()
