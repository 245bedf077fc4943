"""What the worker sends back, on the frame thread: images wait here for the director's
Present; refusals become faults and, for an unsafe image, a re-roll (never shown)."""

from __future__ import annotations

from collections.abc import Callable

from installation.app.room import Room
from installation.core.director import Action, Director
from installation.core.variations import MAX_REROLLS, Variation, VariationRule, reroll
from installation.worker.replies import Failure, Result

MAX_WAITING_IMAGES = 8  # only the awaited few matter; older ones are dropped


class Arrivals:
    def __init__(self, director: Director, fault: Callable[[str, str], None]) -> None:
        self.director = director
        self._fault = fault
        self._images: dict[tuple[str, int, int], Result] = {}  # by variation id

    def __repr__(self) -> str:
        return f"<Arrivals waiting={list(self._images)}>"

    def reply(
        self,
        reply: Result | Failure,
        rule: VariationRule,
        room: Room | None,
        wall_now: float,
        now: float,
    ) -> list[Action]:
        """One worker reply; the director's answer to it."""
        if isinstance(reply, Result):
            if room is not None and room.hold(reply, wall_now):
                return []  # shown when the room flips together (Room.flip)
            return self.arrived(reply, now)
        v = reply.variation
        self._fault(f"render-{reply.kind}", f"variation {v.key} seed {v.seed}: {reply.reason}")
        if reply.kind != "unsafe":
            return []
        if v.reroll >= MAX_REROLLS:
            self._fault(
                "reroll-limit", f"{v.key}: {MAX_REROLLS} re-rolls refused; keeping the wall"
            )
            return self.director.give_up(v, now, "every re-roll refused")
        new = reroll(rule, v)
        if room is not None:
            new = room.rerolled(v, new)
        return self.director.rerolled(v, new)

    def arrived(self, result: Result, now: float) -> list[Action]:
        self._images[result.variation.id] = result
        if len(self._images) > MAX_WAITING_IMAGES:
            self._images.pop(next(iter(self._images)))
        return self.director.image_ready(result.variation, now)

    def take(self, variation: Variation) -> Result | None:
        """The image for a Present (None if it was dropped)."""
        return self._images.pop(variation.id, None)
