"""The kiosk's edges to the outside: input events, live settings, the status figures and
reading the screen back (split from kiosk.py: Kiosk's methods of the same names call these)."""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pygame

from installation.display import label as wall
from installation.display.window import parse_colour
from installation.show.changes import restart_keys
from installation.storage.atomic import write_atomic

log = logging.getLogger("installation.display.kiosk")
RESTART_KEYS = restart_keys("display")  # configure() cannot change these
# [display] keys whose change repaints the pictures (a live reload)
EXPOSED = (pygame.WINDOWEXPOSED, pygame.VIDEOEXPOSE)
LOOKS = ("fit", "background", "label", "label_corner", "label_size", "label_font", "upscale")

if TYPE_CHECKING:
    from installation.display.kiosk import Kiosk
    from installation.show.schema import DisplaySection


# -- input --------------------------------------------------------------------
def poll_input(kiosk: Kiosk) -> list[object]:
    """Drain window events; return inbox events (rehearsal keys, KioskQuit)."""
    if not kiosk.is_open:
        return []
    out: list[object] = []
    typed = kiosk.keys.typed()
    for event in pygame.event.get():
        if event.type in kiosk.CLOSE_EVENTS:
            out += kiosk.keys.quit("window closed", kiosk.config)
        elif event.type == pygame.KEYDOWN:
            out += kiosk.keys.key(event.key, kiosk.config)
        elif event.type in EXPOSED:  # uncovered: what the window shows is not known
            kiosk.composer.invalidate()
    if kiosk.keys.typed() != typed:
        note = kiosk.keys.typed()
        kiosk.cues.note = wall.render_note(note, kiosk.upright) if note else None
    return out


def stats(kiosk: Kiosk) -> dict[str, object]:
    """For the status JSON: frames shown, fps and frame-time spread over the last frames."""
    return {
        **kiosk.times.summary(),
        "state": kiosk.state,
        "size": list(kiosk.size),
        "driver": kiosk.driver,
        "vsync": kiosk.vsync,
        "fading": kiosk.picture.old is not None,
        "ignored_keys": kiosk.ignored_keys,
        "overlay": kiosk.cues.overlay_text is not None,
        "banner": kiosk.cues.banner_text,
        "woken": kiosk.pacer.woken,  # frame waits cut short by news (a throw, a slide)
        "late": kiosk.pacer.late,  # frames that missed their deadline
        "prepared_used": kiosk.desk.prepared.used,  # presents whose slide was painted ahead
        "redraws": dict(kiosk.composer.counts),  # frames drawn whole, in part, still
    }


# -- reading back -------------------------------------------------------------
def read_pixels(kiosk: Kiosk) -> np.ndarray:
    """The screen as HxWx3 uint8 RGB (what the last frame() drew)."""
    screen = kiosk.need_screen()
    return np.ascontiguousarray(pygame.surfarray.array3d(screen).swapaxes(0, 1))


def screenshot(kiosk: Kiosk, path: str | Path) -> Path:
    """Save the screen as a PNG, atomically (the project's one write_atomic)."""
    screen = kiosk.need_screen()
    target = Path(path)
    png = io.BytesIO()
    pygame.image.save(screen, png, "png")
    write_atomic(target, png.getvalue())
    return target


def configure(kiosk: Kiosk, config: DisplaySection, title: str, artist: str) -> None:
    """Live reload: apply what can change without reopening the window (background,
    attract text, label, fit, transition, fps, keys, title/artist). fullscreen, display and
    window_size keep their running values and are named in the log."""
    background = parse_colour(config.background)  # a bad colour changes nothing
    changed = [k for k in RESTART_KEYS if getattr(config, k) != getattr(kiosk.config, k)]
    if changed:
        log.warning("display %s change(s) apply after a restart", ", ".join(changed))
    old = (kiosk.config, kiosk.title, kiosk.artist)
    kiosk.config = config.model_copy(update={k: getattr(kiosk.config, k) for k in changed})
    kiosk.title, kiosk.artist, kiosk.background = title, artist, background
    if not kiosk.is_open:
        return
    if kiosk.config.attract_text != old[0].attract_text:
        kiosk.cues.invitation = wall.render_invitation(kiosk.config.attract_text, kiosk.upright)
    look = [getattr(old[0], k) != getattr(config, k) for k in LOOKS]
    if (title, artist) != old[1:] or any(look):
        kiosk.restyle()
