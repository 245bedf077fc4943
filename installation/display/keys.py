"""Keys at the kiosk: the rehearsal keyboard (digits set faces, space throws at random,
backspace takes a face back) and the quit key, as inbox events.

Split from kiosk.py so the key rules read in one place; it only needs pygame's key codes.
"""

from __future__ import annotations

import logging

import pygame

from installation.core.dice import Throw
from installation.core.events import KioskQuit, RandomThrow, ThrowCommitted
from installation.show.schema import DisplaySection

log = logging.getLogger("installation.display.kiosk")

_DIGITS = {getattr(pygame, f"K_{d}"): d for d in range(1, 10)}
_DIGITS.update({getattr(pygame, f"K_KP{d}"): d for d in range(1, 10)})


class KeyRules:
    """Turns key presses into events; `pending` holds the faces typed so far."""

    def __init__(self, dice: int, faces: int) -> None:
        self.dice, self.faces = dice, faces
        self.pending: list[int] = []
        self.ignored = 0

    def typed(self) -> str | None:
        """'Dice: 3 _' while a rehearsal throw is being typed; None when nothing is typed."""
        if not self.pending:
            return None
        shown = [str(f) for f in self.pending] + ["_"] * (self.dice - len(self.pending))
        return "Dice: " + " ".join(shown)

    def quit(self, reason: str, config: DisplaySection) -> list[object]:
        """A window close or Escape: honoured in a window or with allow_quit_key."""
        if config.allow_quit_key or not config.fullscreen:
            return [KioskQuit(reason)]
        self.ignored += 1
        log.info("%s ignored: the kiosk is fullscreen and allow_quit_key is off", reason)
        return []

    def key(self, key: int, config: DisplaySection) -> list[object]:
        if key == pygame.K_ESCAPE:
            return self.quit("escape", config)
        rehearsal = config.rehearsal_keys
        if rehearsal and key in _DIGITS and _DIGITS[key] <= self.faces:
            self.pending.append(_DIGITS[key])
            if len(self.pending) < self.dice:
                return []
            faces, self.pending = tuple(self.pending), []
            return [ThrowCommitted(Throw(faces, source="keyboard"))]
        if rehearsal and key == pygame.K_SPACE:
            self.pending = []
            return [RandomThrow("keyboard")]
        if rehearsal and key == pygame.K_BACKSPACE and self.pending:
            self.pending.pop()
            return []
        self.ignored += 1
        return []
