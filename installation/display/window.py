"""Opening the kiosk's window with errors a technician can act on (pygame-ce, main thread).

Split from kiosk.py: choosing a driver and a display mode is done once per open and
is the part most tied to the machine (kmsdrm, a desktop, or SDL's dummy driver).
"""

from __future__ import annotations

import logging
import os
import warnings

import pygame

from installation.display import label as wall
from installation.display.drivers import NO_DISPLAY_ADVICE, refused_driver
from installation.errors import DisplayError
from installation.show.schema import DisplaySection

log = logging.getLogger("installation.display.kiosk")
FRAMEBUFFER_HINT = "SDL_FRAMEBUFFER_ACCELERATION"  # see init_pygame()


def parse_colour(text: str) -> pygame.Color:
    """display.background as a colour, with an error a curator can act on."""
    try:
        return pygame.Color(text)
    except (ValueError, TypeError) as e:
        raise DisplayError(
            f"display.background {text!r} is not a colour; use #rrggbb, e.g. '#000000'"
        ) from e


def quit_pygame() -> None:
    """Shut pygame down; cached fonts die with it, so drop them first."""
    wall.clear_font_cache()
    pygame.quit()


def open_window(cfg: DisplaySection) -> tuple[pygame.Surface, str, bool]:
    """Initialise pygame and open the display: (screen, driver, vsync). DisplayError with advice."""
    if not cfg.fullscreen and min(cfg.window_size) < 64:
        raise DisplayError(
            f"display.window_size {list(cfg.window_size)} is too small; use at least [64, 64]"
        )
    # A kiosk must not minimise when something else grabs focus (a notification, ssh X).
    os.environ.setdefault("SDL_VIDEO_MINIMIZE_ON_FOCUS_LOSS", "0")
    driver = init_pygame()
    count = pygame.display.get_num_displays()
    if cfg.display >= count:
        quit_pygame()
        raise DisplayError(
            f"display.display = {cfg.display}, but only {count} display(s) exist "
            f"(use 0..{count - 1})"
        )
    screen, vsync = _set_mode(cfg)
    return screen, driver, vsync


def init_pygame() -> str:
    requested = os.environ.get("SDL_VIDEODRIVER", "")
    try:
        pygame.display.init()
        pygame.font.init()
        wall.clear_font_cache()  # fonts from an earlier pygame session are invalid
    except pygame.error as e:
        raise DisplayError(f"no display ({e}): {NO_DISPLAY_ADVICE}") from e
    driver = pygame.display.get_driver()
    if problem := refused_driver(driver, requested):  # a black wall with no error otherwise
        quit_pygame()
        raise DisplayError(f"no display: {problem}; {NO_DISPLAY_ADVICE}")
    if driver == "x11" and FRAMEBUFFER_HINT not in os.environ:
        # SDL reads this when the first window surface is made (after init is fine). By
        # default it backs window surfaces on X11 with an OpenGL texture: where GL is software
        # (Xvfb, VMs, boards without a GL driver) every flip of a 1080p window then costs
        # 40-80 ms, even for a 1x1 update; X11's shared-memory path costs 2-6 ms (measured,
        # bench 3/9). Set SDL_FRAMEBUFFER_ACCELERATION=1 to get SDL's default back.
        os.environ[FRAMEBUFFER_HINT] = "0"
    return driver


def _set_mode(cfg: DisplaySection) -> tuple[pygame.Surface, bool]:
    """Fullscreen at the desktop size with vsync if the driver gives it, else without."""
    if cfg.fullscreen:
        size = pygame.display.get_desktop_sizes()[cfg.display]
        attempts = [(pygame.FULLSCREEN | pygame.SCALED, 1), (pygame.FULLSCREEN, 0)]
    else:
        size = (cfg.window_size[0], cfg.window_size[1])
        attempts = [(0, 0)]
    problems = []
    for flags, vsync in attempts:
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                screen = pygame.display.set_mode(size, flags, display=cfg.display, vsync=vsync)
        except pygame.error as e:
            problems.append(f"flags={flags} vsync={vsync}: {e}")
            log.warning("display mode %s vsync=%s refused: %s", size, vsync, e)
            continue
        for w in caught:  # e.g. "no fast renderer available" under the dummy driver
            log.info("display mode %s: %s", size, w.message)
        return screen, bool(vsync)
    quit_pygame()
    raise DisplayError(f"could not open a {size} display: " + "; ".join(problems))
