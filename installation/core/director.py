"""The director: the show's state machine, pure and clock-injected.

States: STANDBY (closed, dice ignored), ATTRACT (idle, inviting a throw), ROLLING
(dice moving or an image on its way), PRESENTING (a variation on the wall).

Every input is a method call with the current time; every output is a list of
actions that the app carries out (render, present, persist, cue). The director
never does IO, so every transition is tested with plain numbers for time.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from installation.core.dice import Throw
from installation.core.variations import Variation, VariationRule, derive_variation


class State(enum.Enum):
    STANDBY = "standby"
    ATTRACT = "attract"
    ROLLING = "rolling"
    PRESENTING = "presenting"


@dataclass(frozen=True)
class Render:
    """Ask the engine for this variation (newer requests supersede older ones)."""

    variation: Variation


@dataclass(frozen=True)
class Present:
    """Crossfade to this variation's image, which has arrived."""

    variation: Variation


@dataclass(frozen=True)
class PersistCount:
    """Fresh seed mode: store the throw count and the per-outcome repeats before
    rendering, so a restart never replays a variation."""

    count: int
    repeats: dict[str, int] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Cue:
    """An event for OSC cues and logs: 'started', 'landed', 'ready', 'shown', 'attract',
    'standby', 'open', 'close', 'ignored'."""

    name: str
    variation: Variation | None = None
    faces: tuple[int, ...] = ()
    reason: str = ""


@dataclass(frozen=True)
class EnterState:
    state: State


Action = Render | Present | PersistCount | Cue | EnterState


@dataclass(frozen=True)
class DirectorConfig:
    dice: int
    faces: int
    attract_after_s: float
    # last resort: ROLLING this long without an image (every re-roll refused, a lost
    # request, dice that never settled) goes back to what was on the wall before
    give_up_after_s: float = 180.0


class Director:
    def __init__(
        self,
        config: DirectorConfig,
        rule: VariationRule,
        now: float,
        count: int = 0,
        repeats: dict[str, int] | None = None,
        is_open: bool = True,
    ) -> None:
        self.config = config
        self.rule = rule
        self.count = count
        self.repeats: dict[str, int] = dict(repeats or {})
        self.state = State.ATTRACT if is_open else State.STANDBY
        self.pending: Variation | None = None
        self.shown: Variation | None = None
        self.last_throw: Throw | None = None
        self.last_activity = now
        self._before_roll = self.state

    def __repr__(self) -> str:
        shown = self.shown.key if self.shown else None
        pending = self.pending.key if self.pending else None
        return f"<Director {self.state.value} count={self.count} shown={shown} pending={pending}>"

    # -- inputs ---------------------------------------------------------------------
    def dice_rolling(self, now: float) -> list[Action]:
        """Some die started rolling: a throw may be on its way."""
        if self.state is State.STANDBY:
            return []
        self.last_activity = now
        if self.state is State.ROLLING:
            return []
        self._before_roll = self.state
        return [*self._enter(State.ROLLING), Cue("started")]

    def throw_cancelled(self, now: float, reason: str) -> list[Action]:
        """The dice were picked up or timed out: go back to what was on before."""
        if self.state is not State.ROLLING or self.pending is not None:
            return []
        self.last_activity = now
        return [*self._enter(self._before_roll), Cue("cancelled", reason=reason)]

    def throw(self, throw: Throw, now: float) -> list[Action]:
        """A committed throw: derive its variation and ask for it."""
        if self.state is State.STANDBY:
            return [Cue("ignored", faces=throw.faces, reason="closed")]
        try:
            throw.validate(self.config.dice, self.config.faces)
        except ValueError as e:
            return [Cue("ignored", faces=throw.faces, reason=str(e))]
        persist: list[Action] = []
        repeat = 0
        if self.rule.seed_mode == "fresh":
            self.count += 1
            repeat = self.repeats[throw.key] = self.repeats.get(throw.key, 0) + 1
            persist.append(PersistCount(self.count, dict(self.repeats)))
        variation = derive_variation(self.rule, throw, count=self.count, repeat=repeat)
        return persist + self._request(variation, throw, now)

    def throw_variation(self, variation: Variation, throw: Throw, now: float) -> list[Action]:
        """A variation decided elsewhere (a cluster follower gets the leader's seed)."""
        if self.state is State.STANDBY:
            return [Cue("ignored", faces=throw.faces, reason="closed")]
        return self._request(variation, throw, now)

    def _request(self, variation: Variation, throw: Throw, now: float) -> list[Action]:
        actions: list[Action] = []
        if self.state is not State.ROLLING:
            self._before_roll = self.state
            actions += self._enter(State.ROLLING)
        self.last_activity = now
        self.last_throw = throw
        self.pending = variation
        return [*actions, Cue("landed", faces=throw.faces), Render(variation)]

    def image_ready(self, variation: Variation, now: float) -> list[Action]:
        """An image arrived. Only the one we wait for is presented; others were superseded."""
        if self.pending is None or not _same(variation, self.pending):
            return []
        self.pending = None
        self.shown = variation
        self.last_activity = now
        return [
            Cue("ready", variation=variation),
            *self._enter(State.PRESENTING),
            Present(variation),
            Cue("shown", variation=variation, faces=variation.faces),
        ]

    def next_variation(self, faces: tuple[int, ...]) -> Variation:
        """What the next throw of these faces will be (pre-rendering looks ahead with it)."""
        throw = Throw(faces)
        if self.rule.seed_mode != "fresh":
            return derive_variation(self.rule, throw)
        repeat = self.repeats.get(throw.key, 0) + 1
        return derive_variation(self.rule, throw, count=self.count + 1, repeat=repeat)

    def rerolled(self, old: Variation, new: Variation) -> list[Action]:
        """The engine refused `old` (unsafe image): wait for its re-roll instead."""
        if self.pending is None or not _same(old, self.pending):
            return []
        self.pending = new
        return [Cue("rerolled", variation=new, reason=f"seed {old.seed} refused"), Render(new)]

    def give_up(self, variation: Variation, now: float, reason: str) -> list[Action]:
        """No image will come for `variation`: keep what the wall showed before."""
        if self.pending is None or not _same(variation, self.pending):
            return []
        return self._abandon(now, reason)

    def tick(self, now: float) -> list[Action]:
        """Time passes: idle presenting turns into attract; a stuck roll is abandoned."""
        idle = now - self.last_activity
        if self.state is State.PRESENTING and idle >= self.config.attract_after_s:
            return [*self._enter(State.ATTRACT), Cue("attract")]
        if self.state is State.ROLLING and idle >= self.config.give_up_after_s:
            return self._abandon(now, f"no image after {idle:.0f} s")
        return []

    def _abandon(self, now: float, reason: str) -> list[Action]:
        self.pending = None
        self.last_activity = now
        back = self._before_roll if self._before_roll is not State.ROLLING else State.ATTRACT
        if back is State.PRESENTING and self.shown is None:
            back = State.ATTRACT
        return [*self._enter(back), Cue("cancelled", reason=reason)]

    def attract(self, now: float) -> list[Action]:
        """Back to the invitation on demand (a cluster follower that lost its leader)."""
        if self.state in (State.STANDBY, State.ATTRACT):
            return []
        self.pending = None
        self.last_activity = now
        return [*self._enter(State.ATTRACT), Cue("attract")]

    def open(self, now: float) -> list[Action]:
        if self.state is not State.STANDBY:
            return []
        self.last_activity = now
        return [*self._enter(State.ATTRACT), Cue("open")]

    def close(self, now: float) -> list[Action]:
        if self.state is State.STANDBY:
            return []
        self.pending = None
        return [*self._enter(State.STANDBY), Cue("close")]

    def _enter(self, state: State) -> list[Action]:
        if state is self.state:
            return []
        self.state = state
        return [EnterState(state)]


def _same(a: Variation, b: Variation) -> bool:
    return a.id == b.id
