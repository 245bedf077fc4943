"""Cluster transport: the pure protocol of core/cluster.py over OSC on UDP.

Wire format (all strings UTF-8; seeds and numbers as int64 'h'):

    /cluster/prepare  s:leader s:id s:faces("3-5") h:seed h:number
    /cluster/ready    s:node s:id
    /cluster/show     s:leader s:id          inside a bundle whose timetag is the flip time
    /cluster/state    s:leader s:id s:faces h:seed h:number d:shown_at i:open
    /cluster/alive    s:node

Messages go to explicit peers (leader: its followers; follower: the leader) or to one
multicast group on a pinned network card. Received datagrams are decoded under bounds
by osc/datagrams.py (never by python-osc, whose bundle parser can loop for ever on a
bad element size); timetags are read straight from the bundle; a datagram that is not
well-formed cluster OSC costs a counter and a log line limited by kind, and every
datagram is handled inside a catch-all.
`ClusterLink` has start()/stop(); it puts RenderShared, PresentAt, LeaderLost,
LeaderFound and ClusterOpen into the app inbox; the app calls prepare() (leader),
local_ready() and set_open() (leader).
"""

from __future__ import annotations

import logging
import queue
import secrets
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from pythonosc.osc_bundle_builder import OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder

from installation.core import cluster as C
from installation.errors import OscError
from installation.osc import datagrams as D
from installation.osc.addresses import parse_hostport

log = logging.getLogger(__name__)

PREPARE, READY, SHOW = "/cluster/prepare", "/cluster/ready", "/cluster/show"
STATE, ALIVE = "/cluster/state", "/cluster/alive"
MAX_DATAGRAM = D.CLUSTER.max_bytes
POLL_S = 0.05  # receive timeout: the state machines tick at least this often


# -- codec (pure) ------------------------------------------------------------------------------
def _faces(faces: tuple[int, ...]) -> str:
    return "-".join(str(f) for f in faces)


def _message(address: str, args: Sequence[tuple[str, Any]]) -> OscMessageBuilder:
    b = OscMessageBuilder(address)
    for tag, value in args:
        b.add_arg(value, tag)
    return b


def encode(msg: C.Message) -> bytes:
    """One message as an OSC datagram (SHOW as a timetagged bundle)."""
    if isinstance(msg, C.Prepare):
        first: list[tuple[str, Any]] = [("s", msg.leader), ("s", msg.vid), ("s", _faces(msg.faces))]
        return _message(PREPARE, [*first, ("h", msg.seed), ("h", msg.number)]).build().dgram
    if isinstance(msg, C.Ready):
        return _message(READY, [("s", msg.node), ("s", msg.vid)]).build().dgram
    if isinstance(msg, C.ShowAt):
        bundle = OscBundleBuilder(msg.at)  # type: ignore[arg-type]  # epoch float is fine
        bundle.add_content(_message(SHOW, [("s", msg.leader), ("s", msg.vid)]).build())
        return bundle.build().dgram
    if isinstance(msg, C.LeaderState):
        args: list[tuple[str, Any]] = [("s", msg.leader), ("s", msg.vid), ("s", _faces(msg.faces))]
        args += [("h", msg.seed), ("h", msg.number), ("d", msg.at), ("i", int(msg.open))]
        return _message(STATE, args).build().dgram
    return _message(ALIVE, [("s", msg.node)]).build().dgram


def decode(data: bytes) -> C.Message | None:
    """A datagram -> a message, or None for anything that is not well-formed cluster OSC."""
    try:
        return decode_checked(data)
    except D.DatagramError:
        return None


def decode_checked(data: bytes) -> C.Message | None:
    """Like decode(), but a datagram outside the bounds raises DatagramError (its kind
    is counted); None is a well-formed datagram that is not a cluster message."""
    messages = D.decode(data, D.CLUSTER)
    if len(messages) != 1:
        return None
    m = messages[0]
    if m.timetag is not None:  # a bundle: only /cluster/show travels in one
        if m.address == SHOW and [type(x) for x in m.args] == [str, str]:
            return C.ShowAt(m.args[0], m.args[1], D.timetag_to_unix(m.timetag))
        return None
    try:
        return _decode_message(m.address, list(m.args))
    except ValueError:  # faces that are not numbers, or out of range
        return None


def _decode_message(address: str, p: list[Any]) -> C.Message | None:
    types = [type(x) for x in p]
    if address == PREPARE and types == [str, str, str, int, int]:
        return C.Prepare(p[0], p[1], _parse_faces(p[2]), p[3], p[4])
    if address == READY and types == [str, str]:
        return C.Ready(p[0], p[1])
    if address == ALIVE and types == [str]:
        return C.Alive(p[0])
    if address == STATE and types == [str, str, str, int, int, float, int]:
        return C.LeaderState(p[0], p[1], _parse_faces(p[2]), p[3], p[4], p[5], bool(p[6]))
    return None


def _parse_faces(text: str) -> tuple[int, ...]:
    faces = tuple(int(f) for f in text.split("-")) if text else ()
    if len(faces) > 8 or any(not 1 <= f <= 20 for f in faces):
        raise ValueError(f"faces {text!r} out of range")
    return faces


# -- transport -------------------------------------------------------------------------------
class ClusterLink:
    """UDP transport plus the leader or follower state, in a daemon thread."""

    def __init__(
        self,
        role: str,
        *,
        node: str,
        listen: str,
        peers: Sequence[str] = (),
        multicast: str = "",
        interface: str = "",
        timing: C.Timing | None = None,
        inbox: queue.Queue[Any],
        clock: Callable[[], float] = time.time,
    ) -> None:
        if role not in ("leader", "follower"):
            raise OscError(f"cluster: role {role!r}; a link is for 'leader' or 'follower'")
        try:
            C.check_transport(role, list(peers), multicast, interface)
            self._bind = parse_hostport(listen)
            self._targets = [parse_hostport(p, "peer") for p in peers]
            if multicast:
                self._targets = [parse_hostport(multicast, "multicast")]
        except ValueError as e:
            raise OscError(f"cluster: {e}") from None
        self.role = role
        self.node = node or socket.gethostname()
        self.multicast = bool(multicast)
        self.interface = interface
        self.timing = timing or C.Timing()
        self.inbox = inbox
        self.clock = clock
        self.state: C.Leader | C.Follower
        if role == "leader":
            self.state = C.Leader(self.node, secrets.token_hex(3), self.timing, clock())
        else:
            self.state = C.Follower(self.node, self.timing, clock())
        self.counters: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._log = D.KindLog(log, "cluster")

    @classmethod
    def from_section(cls, section: Any, inbox: queue.Queue[Any]) -> ClusterLink:
        """From the show's [cluster] section (role leader or follower)."""
        timing = C.Timing(
            lookahead_s=section.lookahead_ms / 1000.0,
            ready_timeout_s=section.ready_timeout_s,
            state_every_s=section.state_every_s,
            leader_timeout_s=section.leader_timeout_s,
        )
        return cls(
            section.role,
            node=section.node,
            listen=section.listen,
            peers=list(section.peers),
            multicast=section.multicast,
            interface=section.interface,
            timing=timing,
            inbox=inbox,
        )

    def __repr__(self) -> str:
        return f"<ClusterLink {self.role} {self.state!r}>"

    @property
    def address(self) -> tuple[str, int]:
        if self._sock is None:
            return self._bind
        host, port = self._sock.getsockname()[:2]
        return str(host), int(port)

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        try:
            self._sock = self._open()
        except OSError as e:
            host, port = self._bind
            raise OscError(f"cluster: cannot listen on {host}:{port}: {e.strerror or e}") from None
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="cluster", daemon=True)
        self._thread.start()
        log.info("cluster %s %r listening on %s:%d", self.role, self.node, *self.address)

    def _open(self) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if not self.multicast:
                sock.bind(self._bind)
            else:
                group, port = self._targets[0]
                sock.bind(("", port))
                mreq = socket.inet_aton(group) + socket.inet_aton(self.interface)
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
                iface = socket.inet_aton(self.interface)
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, iface)
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
            sock.settimeout(POLL_S)
        except OSError:
            sock.close()
            raise
        return sock

    def stop(self) -> None:
        thread, sock = self._thread, self._sock
        self._stopping.set()
        if thread is not None:
            thread.join(timeout=2.0)
        if sock is not None:
            sock.close()
        self._thread = self._sock = None

    # -- calls from the app (any thread) ------------------------------------------------------
    def prepare(self, faces: tuple[int, ...], seed: int, number: int) -> str | None:
        """Leader: a throw. Returns the shared variation id (None on a follower)."""
        if not isinstance(self.state, C.Leader):
            return None
        with self._lock:
            self._apply(self.state.prepare(faces, seed, number, self.clock()))
            return self.state.pending_vid

    def local_ready(self, vid: str) -> None:
        """This node's image for `vid` is rendered (the app holds it until PresentAt)."""
        with self._lock:
            self._apply(self.state.local_ready(vid, self.clock()))

    def set_open(self, is_open: bool) -> None:
        """Leader: the room opened or closed (followers mirror it)."""
        if isinstance(self.state, C.Leader):
            with self._lock:
                self._apply(self.state.set_open(is_open, self.clock()))

    def status(self) -> dict[str, Any]:
        with self._lock:
            s = self.state
            info: dict[str, Any] = {"role": self.role, "node": self.node}
            if isinstance(s, C.Leader):
                info["followers"] = sorted(s.live_followers(self.clock()))
                info["pending"] = s.pending_vid
                info["shown"] = s.state.vid or None
            else:
                info["leader"] = None if s.lost else s.leader
                info["shown"] = s.shown
                info["pending"] = s.pending.vid if s.pending else None
            info["counters"] = dict(self.counters)
            return info

    # -- the thread ---------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._once()
            except Exception as e:  # the last guard: the link must outlive any bug
                self.counters["errors"] += 1
                self._log("error", f"{type(e).__name__}: {e}")
                self._stopping.wait(POLL_S)

    def _once(self) -> None:
        assert self._sock is not None
        try:
            data, _ = self._sock.recvfrom(65536)
        except TimeoutError:
            data = b""
        except OSError as e:
            self.counters["receive_errors"] += 1
            log.debug("cluster receive: %s", e)
            self._stopping.wait(POLL_S)
            data = b""
        msg = self._decode(data) if data else None
        with self._lock:
            if data:
                self.counters["datagrams"] += 1
            if msg is not None:
                self._apply(self.state.receive(msg, self.clock()))
            self._apply(self.state.tick(self.clock()))

    def _decode(self, data: bytes) -> C.Message | None:
        """A cluster message, or None counted as `malformed` (and by kind) and logged."""
        try:
            msg = decode_checked(data)
        except D.DatagramError as e:
            kind = f"malformed_{e.kind}"
            with self._lock:
                self.counters["malformed"] += 1
                self.counters[kind] += 1
            self._log(kind, f"{len(data)} bytes: {e.detail}")
            return None
        if msg is None:
            with self._lock:
                self.counters["malformed"] += 1
                self.counters["not_cluster"] += 1
            self._log("not_cluster", f"{len(data)} bytes of OSC that is no cluster message")
        return msg

    def _apply(self, actions: list[C.Action]) -> None:
        """Send, log or pass on to the app. Called with the lock held."""
        for a in actions:
            if isinstance(a, C.Send):
                self._send(encode(a.message))
            elif isinstance(a, C.Note):
                log.info("cluster: %s", a.text)
            else:
                try:
                    self.inbox.put_nowait(a)
                except queue.Full:
                    self.counters["inbox_full"] += 1
                if isinstance(a, C.LeaderLost):
                    log.warning("cluster: leader lost (%s): attract", a.reason)

    def _send(self, data: bytes) -> None:
        if self._sock is None:
            return
        for target in self._targets:
            try:
                self._sock.sendto(data, target)
                self.counters["sent"] += 1
            except OSError as e:  # a peer's network is down: counted, never raised
                self.counters["send_errors"] += 1
                log.debug("cluster send to %s:%d: %s", *target, e)
