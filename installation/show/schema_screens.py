"""Show file settings for screens: how each screen shows the wall, and `[[screens]]`.

Split from schema.py (which uses them in [display]). The look settings here (rotation,
label corner/size/font, upscale) exist in [display] with a value and in each
`[[screens]]` table as an override; a key left out of a screen takes [display]'s value,
as do fit, background and label.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, Strict, StrictInt

from installation.show.schema_base import Section

if TYPE_CHECKING:
    from installation.show.schema import DisplaySection, Show

Rotation = Literal[0, 90, 180, 270]
Corner = Literal["bottom-left", "bottom-right", "top-left", "top-right"]
Upscale = Literal["smooth", "lanczos"]
Content = Literal["variation", "painting", "previous"]
Fit = Literal["cover", "contain"]
LaxPath = Annotated[Path, Strict(False)]
MAX_SCREENS = 8
MAX_POSITION = 65536

ROTATION = (
    "Degrees clockwise the picture is turned for a screen mounted sideways or upside down "
    "(0, 90, 180, 270): 90 shows an upright portrait on a landscape projector hung on its side."
)
CORNER = "Where the wall label sits: bottom-left, bottom-right, top-left or top-right."
LABEL_SIZE = "Label size, 0.5 to 3 (1: standard; relative to the screen, so any screen fits)."
LABEL_FONT = (
    "A font file (TTF/OTF) for the label; none: the built-in font. Relative to the show "
    "folder and inside it."
)
UPSCALE = (
    "How a picture smaller than the screen is enlarged: smooth (fast bilinear) or lanczos "
    "(Lanczos with mild sharpening: crisper; costs tens of ms per picture, off the frame loop)."
)
# The [display] keys a screen may override; None in a screen means "as [display]".
OVERRIDES = (
    "fit",
    "background",
    "label",
    "rotation",
    "label_corner",
    "label_size",
    "label_font",
    "upscale",
)


class ScreenEntry(Section):
    """One screen of several, driven by the same process on the same frame."""

    display: int = Field(
        ge=0,
        le=16,
        description="Which display (0 = first). Fullscreen runs need a display per screen.",
    )
    content: Content = Field(
        description="variation: the newest variation; painting: the source painting the "
        "newest variation came from; previous: the variation before it (a diptych).",
    )
    window: tuple[StrictInt, StrictInt, StrictInt, StrictInt] | None = Field(
        None,
        strict=False,
        description="[x, y, width, height] of this screen's window when run with --window "
        "(rehearsal on one monitor, tests); none: [display] window_size, side by side.",
    )
    fit: Fit | None = Field(None, description="As [display] fit; none: [display]'s.")
    background: str | None = Field(None, description="As [display] background.")
    label: bool | None = Field(None, description="Show the wall label on this screen.")
    rotation: Rotation | None = Field(None, description=ROTATION)
    label_corner: Corner | None = Field(None, description=CORNER)
    label_size: float | None = Field(None, ge=0.5, le=3, description=LABEL_SIZE)
    label_font: LaxPath | None = Field(None, description=LABEL_FONT)
    upscale: Upscale | None = Field(None, description=UPSCALE)

    def overrides(self) -> dict[str, Any]:
        """The [display] keys this screen sets (left-out keys take [display]'s values)."""
        return {k: getattr(self, k) for k in OVERRIDES if getattr(self, k) is not None}

    def window_rect(self, index: int, size: tuple[int, int]) -> tuple[int, int, int, int]:
        """Where the window goes with --window: its own rectangle, or `size` placed side by
        side with the screens before it."""
        if self.window is not None:
            x, y, w, h = self.window
            return x, y, w, h
        return index * size[0], 0, size[0], size[1]


def resolved_display(show: Show) -> DisplaySection:
    """[display] with its label font made absolute against the show folder."""
    d = show.display
    if d.label_font is None or d.label_font.is_absolute():
        return d
    return d.model_copy(update={"label_font": show.resolve(d.label_font)})
