"""Images as arrays: load a painting at a size (PNG writing lives in storage/png.py).

Every image in the installation is an HxWx3 uint8 RGB numpy array. Loading goes through
Pillow once, here, so every edge gets the same orientation (EXIF), colour mode and
fitting rule, and the same precise error for a missing or broken file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from installation.errors import ImageFileError

FITS = ("cover", "contain")


def load_rgb(path: Path, size: tuple[int, int] | None = None, fit: str = "cover") -> np.ndarray:
    """The image at `path` as HxWx3 uint8 RGB, optionally fitted to size=(width, height).

    cover scales until the size is filled and centre-crops the overflow; contain scales
    until the whole image fits and letterboxes the rest in black.
    """
    if fit not in FITS:
        raise ValueError(f"fit must be one of {', '.join(FITS)}, got {fit!r}")
    if size is not None:
        _check_size(size)
    path = Path(path)
    try:
        with Image.open(path) as im:
            im.load()
            image = ImageOps.exif_transpose(im).convert("RGB")
    except FileNotFoundError:
        raise ImageFileError(f"{path}: no such image file") from None
    except IsADirectoryError:
        raise ImageFileError(f"{path}: is a folder, expected an image file (PNG, JPEG)") from None
    except Image.DecompressionBombError as e:
        raise ImageFileError(f"{path}: image too large to load safely ({e})") from None
    except (OSError, ValueError, SyntaxError) as e:
        # Pillow reports unknown formats and truncated data as OSError/UnidentifiedImageError.
        raise ImageFileError(
            f"{path}: not a readable image ({e}); use a PNG or JPEG file"
        ) from None
    if size is not None and image.size != size:
        image = _fit(image, size, fit)
    return np.asarray(image, dtype=np.uint8).copy()


def _check_size(size: tuple[int, int]) -> None:
    if len(size) != 2 or any(not isinstance(v, int) or v < 1 for v in size):
        raise ValueError(f"size must be (width, height) with positive integers, got {size!r}")


def _fit(image: Image.Image, size: tuple[int, int], fit: str) -> Image.Image:
    if fit == "cover":
        return ImageOps.fit(image, size, Image.Resampling.LANCZOS, centering=(0.5, 0.5))
    return ImageOps.pad(image, size, Image.Resampling.LANCZOS, color=(0, 0, 0))
