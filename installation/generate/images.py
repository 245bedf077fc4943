"""Images as arrays: load a painting at a size, write PNGs atomically with text metadata.

Every image in the installation is an HxWx3 uint8 RGB numpy array. Loading goes through
Pillow once, here, so every edge gets the same orientation (EXIF), colour mode and
fitting rule, and the same precise error for a missing or broken file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, PngImagePlugin

from installation.errors import EngineError

FITS = ("cover", "contain")


class ImageFileError(EngineError, ValueError):
    """An image file that is missing, unreadable or not an image; the message names it."""


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


def as_rgb_array(image: np.ndarray) -> np.ndarray:
    """Check that `image` is an HxWx3 uint8 array (what every engine returns)."""
    if not isinstance(image, np.ndarray):
        raise ValueError(f"expected a numpy array, got {type(image).__name__}")
    if image.ndim != 3 or image.shape[2] != 3 or image.shape[0] < 1 or image.shape[1] < 1:
        raise ValueError(f"expected an HxWx3 RGB image, got shape {image.shape}")
    if image.dtype != np.uint8:
        raise ValueError(f"expected dtype uint8, got {image.dtype}")
    return image


def save_png(image: np.ndarray, path: Path, text: Mapping[str, str] | None = None) -> None:
    """Write `image` as a PNG with text chunks, atomically: readers see the old file or the new.

    The temporary file lives in the same folder so os.replace is a rename on one filesystem;
    on any failure it is removed, so a full disk never leaves a half-written PNG behind.
    """
    from installation.store import write_atomic

    as_rgb_array(image)
    info = _png_info(text or {})
    write_atomic(
        Path(path), lambda f: Image.fromarray(image, "RGB").save(f, format="PNG", pnginfo=info)
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
