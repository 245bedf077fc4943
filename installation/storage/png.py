"""PNG files with text metadata, written atomically; the RGB array check every writer uses.

Every image in the installation is an HxWx3 uint8 RGB numpy array. The archive, the
outcome cache and the curator tools keep images as PNGs whose text chunks say how they
were made; writes go through write_atomic, so a reader never sees half a file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
from PIL import Image, PngImagePlugin

from installation.errors import ImageFileError
from installation.storage.atomic import write_atomic


def as_rgb_array(image: np.ndarray) -> np.ndarray:
    """Check that `image` is an HxWx3 uint8 array (what every engine returns)."""
    if not isinstance(image, np.ndarray):
        raise ValueError(f"expected a numpy array, got {type(image).__name__}")
    if image.ndim != 3 or image.shape[2] != 3 or image.shape[0] < 1 or image.shape[1] < 1:
        raise ValueError(f"expected an HxWx3 RGB image, got shape {image.shape}")
    if image.dtype != np.uint8:
        raise ValueError(f"expected dtype uint8, got {image.dtype}")
    return image


def save_png(
    image: np.ndarray,
    path: Path,
    text: Mapping[str, str] | None = None,
    *,
    output: bool = False,
) -> None:
    """Write `image` as a PNG with text chunks, atomically: readers see the old file or the new.

    The temporary file lives in the same folder so os.replace is a rename on one filesystem;
    on any failure it is removed, so a full disk never leaves a half-written PNG behind.
    output=True: a user-named path (write_atomic's output rule: no folders made, only a
    regular file replaced).
    """
    as_rgb_array(image)
    info = _png_info(text or {})
    write_atomic(
        Path(path),
        lambda f: Image.fromarray(image, "RGB").save(f, format="PNG", pnginfo=info),
        output=output,
    )


def _png_info(text: Mapping[str, str]) -> PngImagePlugin.PngInfo:
    """PNG text chunks; non-Latin-1 values become iTXt (UTF-8) automatically."""
    info = PngImagePlugin.PngInfo()
    for key, value in text.items():
        if not isinstance(key, str) or not 1 <= len(key) <= 79 or not key.isascii():
            raise ValueError(f"PNG text key must be 1-79 ASCII characters, got {key!r}")
        if not isinstance(value, str):
            raise ValueError(f"PNG text value for {key!r} must be a string, got {value!r}")
        info.add_text(key, value)
    return info


def read_png_text(path: Path) -> dict[str, str]:
    """The text chunks (tEXt, zTXt, iTXt) of a PNG file as a dict."""
    path = Path(path)
    try:
        with Image.open(path) as im:
            im.load()
            if im.format != "PNG":
                raise ImageFileError(f"{path}: is {im.format}, expected a PNG file")
            text = getattr(im, "text", {})
            return {str(k): str(v) for k, v in text.items()}
    except FileNotFoundError:
        raise ImageFileError(f"{path}: no such PNG file") from None
    except ImageFileError:
        raise
    except (OSError, ValueError, SyntaxError) as e:
        raise ImageFileError(f"{path}: not a readable PNG ({e})") from None
