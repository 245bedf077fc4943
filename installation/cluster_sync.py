"""App-side glue for several nodes in one room: hold images until the room flips together.

The leader tells its followers about each variation (PREPARE) and, once they are
ready, when to show it (SHOW at a wall-clock time). Both roles keep their own
rendered image here until that moment; the app presents what `due()` hands back.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from installation.core.dice import Throw
from installation.core.variations import Variation, VariationRule, derive_variation, reroll

log = logging.getLogger("installation.cluster")

MAX_HELD = 8


def variation_id(v: Variation) -> tuple[str, int, int]:
    return (v.key, v.seed, v.number)


class ClusterSync:
    def __init__(self, link: Any) -> None:
        self.link = link
        self.role: str = link.role
        self._vids: dict[tuple[str, int, int], str] = {}
        self._held: dict[str, Any] = {}  # vid -> worker Result
        self._held_at: dict[str, float] = {}  # vid -> wall time the image was ready
        self._due: dict[str, float] = {}

    def __repr__(self) -> str:
        return f"<ClusterSync {self.role} held={list(self._held)} due={self._due}>"

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
        vid = self._vids.get(variation_id(old))
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

    def hold(self, result: Any, wall_now: float) -> bool:
        """Our image (a worker Result) is ready: keep it for the flip. False: not a
        cluster variation."""
        vid = self._vids.get(variation_id(result.variation))
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

    def expired(self, wall_now: float, limit_s: float) -> list[Any]:
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

    def due(self, wall_now: float) -> list[Any]:
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
        self._vids[variation_id(v)] = vid
        while len(self._vids) > 4 * MAX_HELD:
            self._vids.pop(next(iter(self._vids)))


# -- the app's side: called from App.step and App.handle_event on the frame thread ---------
def flip_due(app: Any, now: float) -> None:
    """Put up the images whose room-wide flip time has come; give up those the room
    never flipped to (this node was late and the leader went on without it)."""
    wall = app.wall()
    for result in app.cluster.due(wall):
        app._image_arrived(result, now)
    c = app.show.cluster
    limit = c.lookahead_ms / 1000.0 + c.ready_timeout_s + 1.0
    for result in app.cluster.expired(wall, limit):
        reason = "the room flipped without this node (it was late)"
        app._apply(app.director.give_up(result.variation, now, reason), now)


def handle_cluster_event(app: Any, event: Any, now: float) -> None:
    """RenderShared, PresentAt, LeaderLost, LeaderFound and ClusterOpen from the link."""
    from installation.core import cluster as cl

    sync, director = app.cluster, app.director
    if sync is None:
        app.fault("cluster", f"cluster event {event!r} but this node has no [cluster] role")
    elif isinstance(event, cl.RenderShared):
        v = sync.shared_variation(app.rule, event.faces, event.seed, event.number, event.vid)
        app._throw_started = now
        app._apply(director.throw_variation(v, Throw(event.faces, "cluster"), now), now)
    elif isinstance(event, cl.PresentAt):
        sync.present_at(event.vid, event.at)
    elif isinstance(event, cl.LeaderLost):
        log.warning("cluster: %s; inviting a throw until the leader is back", event.reason)
        app._apply(director.attract(now), now)
    elif isinstance(event, cl.LeaderFound):
        log.info("cluster: following leader %s", event.leader)
    elif isinstance(event, cl.ClusterOpen):
        app._apply(director.open(now) if event.open else director.close(now), now)
