"""Rehearsal keys and the quit key, through real pygame KEYDOWN events."""

from __future__ import annotations

import numpy as np
import pygame

from installation.core.dice import Throw
from installation.core.events import RandomThrow, ThrowCommitted
from installation.display.kiosk import KioskQuit
from tests.display.kiosk_helpers import KioskFactory


def press(*keys: int) -> None:
    for key in keys:
        pygame.event.post(
            pygame.event.Event(pygame.KEYDOWN, key=key, mod=0, unicode="", scancode=0)
        )


def test_digits_fill_the_dice_in_order_then_commit(make_kiosk: KioskFactory) -> None:
    kiosk = make_kiosk(rehearsal_keys=True, dice=2)
    press(pygame.K_3)
    assert kiosk.poll_input() == []
    press(pygame.K_KP5, pygame.K_6)
    assert kiosk.poll_input() == [ThrowCommitted(Throw((3, 5), source="keyboard"))]
    press(pygame.K_1)
    assert kiosk.poll_input() == [ThrowCommitted(Throw((6, 1), source="keyboard"))]
    assert kiosk.poll_input() == []


def test_digits_above_the_faces_and_backspace(make_kiosk: KioskFactory) -> None:
    kiosk = make_kiosk(rehearsal_keys=True, dice=2)
    press(pygame.K_9, pygame.K_4, pygame.K_BACKSPACE, pygame.K_2, pygame.K_7, pygame.K_6)
    assert kiosk.poll_input() == [ThrowCommitted(Throw((2, 6), source="keyboard"))]
    assert kiosk.stats()["ignored_keys"] == 2  # 9 and 7 on six-sided dice


def test_space_throws_at_random(make_kiosk: KioskFactory) -> None:
    kiosk = make_kiosk(rehearsal_keys=True)
    press(pygame.K_4, pygame.K_SPACE, pygame.K_1)
    assert kiosk.poll_input() == [RandomThrow("keyboard")]  # the half-typed 4 is dropped
    press(pygame.K_2)
    assert kiosk.poll_input() == [ThrowCommitted(Throw((1, 2), source="keyboard"))]


def test_rehearsal_keys_off_means_keys_do_nothing(make_kiosk: KioskFactory) -> None:
    kiosk = make_kiosk(rehearsal_keys=False, fullscreen=True)
    press(pygame.K_3, pygame.K_5, pygame.K_SPACE, pygame.K_ESCAPE, pygame.K_q)
    assert kiosk.poll_input() == []
    assert kiosk.stats()["ignored_keys"] == 5


def test_escape_is_ignored_fullscreen_unless_allowed(make_kiosk: KioskFactory) -> None:
    kiosk = make_kiosk(fullscreen=True, allow_quit_key=False)
    assert kiosk.size == tuple(pygame.display.get_desktop_sizes()[0])
    press(pygame.K_ESCAPE)
    pygame.event.post(pygame.event.Event(pygame.QUIT))
    assert kiosk.poll_input() == []
    assert kiosk.stats()["ignored_keys"] == 2


def test_escape_quits_when_allowed(make_kiosk: KioskFactory) -> None:
    kiosk = make_kiosk(fullscreen=True, allow_quit_key=True)
    press(pygame.K_ESCAPE)
    assert kiosk.poll_input() == [KioskQuit("escape")]


def test_escape_and_close_quit_a_window(make_kiosk: KioskFactory) -> None:
    kiosk = make_kiosk(fullscreen=False, allow_quit_key=False)
    press(pygame.K_ESCAPE)
    pygame.event.post(pygame.event.Event(pygame.QUIT))
    assert kiosk.poll_input() == [KioskQuit("escape"), KioskQuit("window closed")]


def test_typed_faces_show_as_a_note_until_committed(make_kiosk: KioskFactory) -> None:
    kiosk = make_kiosk(rehearsal_keys=True, dice=2, transition_ms=0, label=False)
    kiosk.present(np.zeros((8, 8, 3), np.uint8), None)
    assert kiosk.wait_ready()
    kiosk.set_state("presenting")
    press(pygame.K_4)
    kiosk.poll_input()
    kiosk.frame()
    assert kiosk.read_pixels()[:40, 200:].any()  # top-right note
    press(pygame.K_2)
    kiosk.poll_input()
    kiosk.frame()
    assert not kiosk.read_pixels().any()
