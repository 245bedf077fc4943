"""Several nodes in one room: the pure cluster protocol (leader and follower state).

The leader owns the dice. On a throw it sends PREPARE(id, faces, seed, number); each
node renders its own piece (its own show and painting, the shared seed) and answers
READY(id). Once every live node is ready, or `ready_timeout_s` has passed, the leader
sends SHOW(id, at) with `at` at least `lookahead_s` ahead, and every ready node flips
at that wall-clock instant. A node not ready in time skips that variation (it never
flips out of step). Every `state_every_s` the leader sends STATE (what is on the wall
and whether the room is open) so a node that starts late catches up; followers send
ALIVE so the leader knows whom to wait for. A follower that hears no leader for
`leader_timeout_s` goes to attract.

Both machines are fed messages and the time and return actions; the transport
(osc/cluster.py) sends and receives, the app carries out the rest. Time is wall-clock
seconds (time.time()): the flip instant must agree across machines (doctor checks NTP),
and one clock keeps the state simple; a clock step only stretches a timeout once.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field


# -- messages on the wire ----------------------------------------------------------------
@dataclass(frozen=True)
class Prepare:
    leader: str
    vid: str
    faces: tuple[int, ...]
    seed: int
    number: int


@dataclass(frozen=True)
class Ready:
    node: str
    vid: str


@dataclass(frozen=True)
class ShowAt:
    leader: str
    vid: str
    at: float  # wall-clock seconds (the bundle timetag on the wire)


@dataclass(frozen=True)
class LeaderState:
    """The leader's wall: the last shown variation ('' vid: none yet) and open/closed."""

    leader: str
    vid: str
    faces: tuple[int, ...]
    seed: int
    number: int
    at: float
    open: bool


@dataclass(frozen=True)
class Alive:
    node: str


Message = Prepare | Ready | ShowAt | LeaderState | Alive


# -- actions (the last five are also app inbox events) ----------------------------------------
@dataclass(frozen=True)
class Send:
    message: Message


@dataclass(frozen=True)
class Note:
    """Something for the log (late nodes, skipped flips)."""

    text: str


@dataclass(frozen=True)
class RenderShared:
    """Follower: render your own piece for these faces with this shared seed and number."""

    vid: str
    faces: tuple[int, ...]
    seed: int
    number: int


@dataclass(frozen=True)
class PresentAt:
    """Show the image rendered for `vid` when the wall clock reaches `at` (now if past)."""

    vid: str
    at: float


@dataclass(frozen=True)
class LeaderLost:
    """Follower: no leader for a while: go to attract."""

    reason: str


@dataclass(frozen=True)
class LeaderFound:
    leader: str


@dataclass(frozen=True)
class ClusterOpen:
    """Follower: the leader opened or closed the room (mirror it: attract or standby)."""

    open: bool


Action = Send | Note | RenderShared | PresentAt | LeaderLost | LeaderFound | ClusterOpen
# what the link hands the app through its inbox
RoomEvent = RenderShared | PresentAt | LeaderLost | LeaderFound | ClusterOpen


@dataclass(frozen=True)
class Timing:
    lookahead_s: float = 0.3
    ready_timeout_s: float = 10.0
    state_every_s: float = 1.0
    leader_timeout_s: float = 5.0
    resend_s: float = 0.5  # PREPARE is repeated this often while nodes are missing (UDP)


# -- leader ---------------------------------------------------------------------------------
@dataclass
class _Round:
    prepare: Prepare
    started: float
    expected: set[str]
    ready: set[str] = field(default_factory=set)
    self_ready: bool = False
    resend_at: float = 0.0


class Leader:
    """Leader state: followers heard from, the round in progress, what is on the wall."""

    def __init__(self, node: str, session: str, timing: Timing, now: float) -> None:
        self.node = node
        self.session = session  # makes ids unique across leader restarts
        self.timing = timing
        self.followers: dict[str, float] = {}
        self.round: _Round | None = None
        self.is_open = True
        self.state = LeaderState(node, "", (), 0, 0, 0.0, True)
        self._n = 0
        self._state_at = now

    def __repr__(self) -> str:
        pending = self.round.prepare.vid if self.round else None
        return f"<Leader {self.node} followers={sorted(self.followers)} pending={pending}>"

    def live_followers(self, now: float) -> set[str]:
        limit = self.timing.leader_timeout_s
        return {n for n, t in self.followers.items() if now - t < limit}

    def prepare(self, faces: tuple[int, ...], seed: int, number: int, now: float) -> list[Action]:
        """A throw: start a round (superseding any open one). Returns the PREPARE send."""
        self._n += 1
        msg = Prepare(self.node, f"{self.session}-{self._n}", tuple(faces), seed, number)
        self.round = _Round(
            msg, now, self.live_followers(now), resend_at=now + self.timing.resend_s
        )
        return [Send(msg)]

    @property
    def pending_vid(self) -> str | None:
        return self.round.prepare.vid if self.round else None

    def local_ready(self, vid: str, now: float) -> list[Action]:
        """The leader's own image for `vid` is rendered."""
        if self.round is None or self.round.prepare.vid != vid:
            return []
        self.round.self_ready = True
        return self._maybe_flip(now)

    def set_open(self, is_open: bool, now: float) -> list[Action]:
        if is_open == self.is_open:
            return []
        self.is_open = is_open
        return self._send_state(now)

    def receive(self, msg: Message, now: float) -> list[Action]:
        if isinstance(msg, Alive):
            self.followers[msg.node] = now
        elif isinstance(msg, Ready):
            self.followers[msg.node] = now
            r = self.round
            if r is not None and r.prepare.vid == msg.vid:
                r.ready.add(msg.node)
                return self._maybe_flip(now)
        return []

    def tick(self, now: float) -> list[Action]:
        out: list[Action] = []
        r = self.round
        if r is not None:
            if now - r.started >= self.timing.ready_timeout_s:
                out += self._flip(now)
            else:
                out += self._maybe_flip(now)
                if self.round is r and now >= r.resend_at:
                    r.resend_at = now + self.timing.resend_s
                    out.append(Send(r.prepare))
        if now >= self._state_at:
            out += self._send_state(now)
        return out

    def _maybe_flip(self, now: float) -> list[Action]:
        r = self.round
        assert r is not None
        waiting = (r.expected & self.live_followers(now)) - r.ready
        if r.self_ready and not waiting:
            return self._flip(now)
        return []

    def _flip(self, now: float) -> list[Action]:
        r = self.round
        assert r is not None
        self.round = None
        p = r.prepare
        if not r.self_ready and not r.ready:
            return [Note(f"variation {p.vid}: no node was ready in time; nothing flips")]
        at = now + self.timing.lookahead_s
        out: list[Action] = [Send(ShowAt(self.node, p.vid, at))]
        if r.self_ready:
            out.append(PresentAt(p.vid, at))
        late = sorted(r.expected - r.ready) + ([] if r.self_ready else [self.node])
        if late:
            out.append(Note(f"variation {p.vid}: {', '.join(late)} not ready; they skip it"))
        self.state = LeaderState(self.node, p.vid, p.faces, p.seed, p.number, at, self.is_open)
        return out

    def _send_state(self, now: float) -> list[Action]:
        s = self.state
        self.state = LeaderState(s.leader, s.vid, s.faces, s.seed, s.number, s.at, self.is_open)
        self._state_at = now + self.timing.state_every_s
        return [Send(self.state)]


# -- follower ---------------------------------------------------------------------------------
@dataclass
class _Pending:
    vid: str
    ready: bool = False
    at: float | None = None
    catchup: bool = False


class Follower:
    """Follower state: the leader heard from, the piece being rendered, what is shown."""

    def __init__(self, node: str, timing: Timing, now: float) -> None:
        self.node = node
        self.timing = timing
        self.leader: str | None = None
        self.last_heard = now  # a grace period after start before "no leader"
        self.lost = False
        self.pending: _Pending | None = None
        self.shown: str | None = None
        self.is_open: bool | None = None
        self._alive_at = now

    def __repr__(self) -> str:
        pending = self.pending.vid if self.pending else None
        return f"<Follower {self.node} leader={self.leader} shown={self.shown} pending={pending}>"

    def receive(self, msg: Message, now: float) -> list[Action]:
        if not isinstance(msg, Prepare | ShowAt | LeaderState):
            return []
        out = self._heard(msg.leader, now)
        if isinstance(msg, Prepare):
            out += self._prepare(msg)
        elif isinstance(msg, ShowAt):
            out += self._show(msg.vid, msg.at, now)
        else:
            out += self._state(msg, now)
        return out

    def local_ready(self, vid: str, now: float) -> list[Action]:
        """This node's image for `vid` is rendered."""
        p = self.pending
        if p is None or p.vid != vid:
            return []
        p.ready = True
        if p.catchup:
            return self._present(vid, now)
        out: list[Action] = [Send(Ready(self.node, vid))]
        if p.at is not None:
            out += self._show(vid, p.at, now)
        return out

    def tick(self, now: float) -> list[Action]:
        out: list[Action] = []
        if now >= self._alive_at:
            self._alive_at = now + self.timing.state_every_s
            out.append(Send(Alive(self.node)))
        if not self.lost and now - self.last_heard >= self.timing.leader_timeout_s:
            self.lost = True
            self.pending = None
            self.shown = None  # catch up with whatever the leader shows when it is back
            who = self.leader or "no leader yet"
            out.append(LeaderLost(f"{who}: silent for {self.timing.leader_timeout_s:g} s"))
        return out

    def _heard(self, leader: str, now: float) -> list[Action]:
        self.last_heard = now
        if self.lost or leader != self.leader:
            if leader != self.leader:
                self.shown = None
            self.lost = False
            self.leader = leader
            return [LeaderFound(leader)]
        return []

    def _prepare(self, msg: Prepare) -> list[Action]:
        p = self.pending
        if p is not None and p.vid == msg.vid:
            # a repeat: our READY may have been lost
            return [Send(Ready(self.node, msg.vid))] if p.ready and not p.catchup else []
        if msg.vid == self.shown:
            return []
        self.pending = _Pending(msg.vid)
        return [RenderShared(msg.vid, msg.faces, msg.seed, msg.number)]

    def _show(self, vid: str, at: float, now: float) -> list[Action]:
        p = self.pending
        if p is None or p.vid != vid:
            return []
        p.at = at
        if not p.ready:
            return []  # decided in local_ready: in time for `at` or skipped
        if now <= at:
            return self._present(vid, at)
        self.pending = None
        return [Note(f"variation {vid}: rendered after its flip time; skipped")]

    def _state(self, msg: LeaderState, now: float) -> list[Action]:
        out: list[Action] = []
        if msg.open != self.is_open:
            self.is_open = msg.open
            out.append(ClusterOpen(msg.open))
        p = self.pending
        if p is not None and p.vid == msg.vid and p.ready and p.at is None:
            out += self._present(msg.vid, max(msg.at, now))  # we missed the SHOW datagram
        elif msg.vid and self.shown is None and p is None:
            self.pending = _Pending(msg.vid, at=msg.at, catchup=True)
            out.append(RenderShared(msg.vid, msg.faces, msg.seed, msg.number))
        return out

    def _present(self, vid: str, at: float) -> list[Action]:
        self.pending = None
        self.shown = vid
        return [PresentAt(vid, at)]


# -- configuration checks (used by the show schema) ---------------------------------------------
def check_transport(role: str, peers: list[str], multicast: str, interface: str) -> None:
    """ValueError unless the cluster settings name exactly one way to reach the others."""
    if role == "none":
        return
    if peers and multicast:
        raise ValueError("give either peers or multicast, not both")
    if not peers and not multicast:
        who = "its followers" if role == "leader" else "the leader"
        raise ValueError(
            f"a {role} needs peers (IP:port of {who}) or a multicast group, "
            "e.g. multicast = '239.255.42.1:9100' with interface = '192.168.1.20'"
        )
    if multicast:
        group, _, port = multicast.rpartition(":")
        try:
            ok = ipaddress.IPv4Address(group).is_multicast and port.isdigit()
        except ValueError:
            ok = False
        if not ok or not 1 <= int(port) <= 65535:
            raise ValueError(
                f"multicast {multicast!r} is not group:port with a group in 224.0.0.0/4, "
                "e.g. '239.255.42.1:9100'"
            )
        try:
            ipaddress.IPv4Address(interface)
        except ValueError:
            raise ValueError(
                f"multicast needs interface = the numeric IPv4 address of the network card "
                f"to use (got {interface!r}), e.g. '192.168.1.20'"
            ) from None
