"""The kiosk display edge: Kiosk (pygame-ce), Wall (several screens, wall.py) and
FakeKiosk (in memory), same API.

Import from the submodules (`installation.display.kiosk`, `.wall`, `.fake`, `.label`,
`.transitions`; kiosk.py uses `.slides` (the slide painter thread), `.turn` (rotation),
`.kiosk_io`, `.window` and `.keys`); this package file imports no submodule so that
importing the fake or the
pure maths stays cheap. It only silences pygame's import banner, before any
submodule imports pygame.
"""

from __future__ import annotations

import os

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
