"""Several nodes in one room: hold images until the room flips together.

The leader tells its followers about each variation (PREPARE) and, once they are
ready, when to show it (SHOW at a wall-clock time). Both roles keep their own
rendered image here until that moment; the app presents what `due()` hands back.
The room answers the link's events with director actions for the app to apply; it
never calls back into the app.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING, Protocol

from installation.core import cluster as cl
from installation.core.dice import Throw
from installation.core.director import Action, Director
from installation.core.variations import Variation, VariationRule, derive_variation, reroll

if TYPE_CHECKING:
    from installation.worker.replies import Result

log = logging.getLogger("installation.cluster")

MAX_HELD = 8


class RoomLink(Protocol):
    """What the room needs of the cluster transport (osc/cluster.py's ClusterLink)."""

    role: str

    def prepare(self, faces: tuple[int, ...], seed: int, number: int) -> str | None: ...

    def local_ready(self, vid: str) -> None: ...

    def set_open(self, is_open: bool) -> None: ...


class Room:
    def __init__(self, link: RoomLink, *, give_up_after_s: float = 30.0) -> None:
        self.link = link
        self.role: str = link.role
        self.give_up_after_s = give_up_after_s  # a held image the room never flipped to
        self._vids: dict[tuple[str, int, int], str] = {}
        self._held: dict[str, Result] = {}  # vid -> worker Result
        self._held_at: dict[str, float] = {}  # vid -> wall time the image was ready
        self._due: dict[str, float] = {}

    def __repr__(self) -> str:
        return f"<Room {self.role} held={list(self._held)} due={self._due}>"

    def shared_variation(
        self, rule: VariationRule, faces: tuple[int, ...], seed: int, number: int, vid: str
    ) -> Variation:
        """Follower: our own piece (own prompt, own painting) with the leader's seed.

        Two curator rules of this node win over the shared seed: an approved_only show
        shows its own approved variation for these faces, and a blocked seed is
        re-rolled. Either way the image still flips with the room (same vid)."""
        mine = derive_variation(rule, Throw(faces, "cluster"), count=max(1, number), repeat=1)
        if not rule.approved_only:
            mine = dataclasses.replace(mine, seed=seed, painting=seed % max(1, rule.paintings))
        v = dataclasses.replace(mine, number=number)
        while v.seed in rule.blocked_seeds:
            v = dataclasses.replace(reroll(rule, v), number=number)
        self._remember(v, vid)
        return v

    def rerolled(self, old: Variation, new: Variation) -> Variation:
        """A re-roll (unsafe image) still belongs to the same room-wide flip, and keeps the
        room's number so every label agrees."""
        vid = self._vids.get(old.id)
        if vid is None:
            return new
        new = dataclasses.replace(new, number=old.number)
        self._remember(new, vid)
        return new

    def rendering(self, v: Variation) -> None:
        """Leader: a variation is being rendered; tell the followers to prepare theirs."""
        if self.role == "leader":
            vid = self.link.prepare(v.faces, v.seed, v.number)
            if vid:
                self._remember(v, vid)

    def hold(self, result: Result, wall_now: float) -> bool:
        """Our image (a worker Result) is ready: keep it for the flip. False: not a
        cluster variation."""
        vid = self._vids.get(result.variation.id)
        if vid is None:
            return False
        self._held[vid] = result
        self._held_at[vid] = wall_now
        while len(self._held) > MAX_HELD:
            self._held_at.pop(next(iter(self._held)), None)
            self._held.pop(next(iter(self._held)))
        self.link.local_ready(vid)
        return True

    def present_at(self, vid: str, at: float) -> None:
        self._due[vid] = at

    def expired(self, wall_now: float, limit_s: float) -> list[Result]:
        """Held images the room never flipped to within `limit_s` (this node was late and
        the leader went on without it): the app gives them up instead of rolling on."""
        out = []
        for vid, held_at in list(self._held_at.items()):
            if vid not in self._due and wall_now - held_at >= limit_s:
                del self._held_at[vid]
                result = self._held.pop(vid, None)
                if result is not None:
                    out.append(result)
        return out

    def due(self, wall_now: float) -> list[Result]:
        """Images whose flip time has come (late ones at once)."""
        out = []
        for vid, at in list(self._due.items()):
            if wall_now >= at:
                del self._due[vid]
                held = self._held.pop(vid, None)
                self._held_at.pop(vid, None)
                if held is not None:
                    out.append(held)
        return out

    def _remember(self, v: Variation, vid: str) -> None:
        self._vids[v.id] = vid
        while len(self._vids) > 4 * MAX_HELD:
            self._vids.pop(next(iter(self._vids)))

    # -- the app's side, on the frame thread -------------------------------------------
    def flip(
        self, director: Director, wall_now: float, now: float
    ) -> tuple[list[Result], list[Action]]:
        """Images whose room-wide flip time has come (for the app to present), and the
        director's answer for those the room never flipped to (this node was late and the
        leader went on without it)."""
        actions: list[Action] = []
        for result in self.expired(wall_now, self.give_up_after_s):
            reason = "the room flipped without this node (it was late)"
            actions += director.give_up(result.variation, now, reason)
        return self.due(wall_now), actions

    def handle(
        self, event: cl.RoomEvent, director: Director, rule: VariationRule, now: float
    ) -> list[Action]:
        """RenderShared, PresentAt, LeaderLost, LeaderFound and ClusterOpen from the link."""
        if isinstance(event, cl.RenderShared):
            v = self.shared_variation(rule, event.faces, event.seed, event.number, event.vid)
            return director.throw_variation(v, Throw(event.faces, "cluster"), now)
        if isinstance(event, cl.PresentAt):
            self.present_at(event.vid, event.at)
        elif isinstance(event, cl.LeaderLost):
            log.warning("cluster: %s; inviting a throw until the leader is back", event.reason)
            return director.attract(now)
        elif isinstance(event, cl.LeaderFound):
            log.info("cluster: following leader %s", event.leader)
        elif isinstance(event, cl.ClusterOpen):
            return director.open(now) if event.open else director.close(now)
        return []
