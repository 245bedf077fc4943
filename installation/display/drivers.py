"""Which SDL video drivers can light a wall: the rule `run` applies, and `doctor` too.

Pure (no pygame import), so `doctor` can apply it to what its SDL probe found.
"""

from __future__ import annotations

NO_DISPLAY_ADVICE = (
    "run inside a desktop session, on a console with SDL_VIDEODRIVER=kmsdrm, "
    "or headless with SDL_VIDEODRIVER=dummy"
)
INVISIBLE_DRIVERS = ("offscreen", "dummy")  # they draw into memory: nothing reaches a screen


def refused_driver(driver: str, requested: str) -> str | None:
    """Why `run` refuses the driver SDL chose, or None. Without a display SDL silently
    picks its invisible 'offscreen' driver: on a gallery wall that is a black screen with
    no error. An invisible driver is only accepted when asked for by name
    (SDL_VIDEODRIVER, as --headless does)."""
    if driver in INVISIBLE_DRIVERS and driver not in requested:
        return f"SDL fell back to its invisible '{driver}' driver"
    return None
