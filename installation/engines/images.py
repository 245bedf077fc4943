"""Images as arrays: load a painting at a size; a placeholder for a show without one.

Every image in the installation is an HxWx3 uint8 RGB numpy array. Loading goes through
Pillow once, here, so every edge gets the same orientation (EXIF), colour mode and
fitting rule, and the same precise error for a missing or broken file. PNG writing with
text metadata lives in storage/png.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps

from installation.errors import ImageFileError

FITS = ("cover", "contain")
GROUND = (115, 102, 87)  # the placeholder's toned canvas


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


# -- a placeholder for shows without a painting yet ---------------------------------------
def placeholder(
    size: tuple[int, int] = (768, 768), text: str = "Put your painting here"
) -> np.ndarray:
    """A plain toned canvas with centred text: artwork for a show that has none yet."""
    w, h = size
    rng = np.random.default_rng(0)
    ground = np.full((h, w, 3), GROUND, np.float32) / 255
    ground *= canvas_weave(w, h, rng)[..., None]
    image = Image.fromarray(np.clip(ground * 255, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=max(10, min(w, h) // 18))
    lines = text.splitlines() or [""]
    boxes = [draw.textbbox((0, 0), line, font=font) for line in lines]
    line_h = max(b[3] - b[1] for b in boxes) * 1.4
    y = (h - line_h * len(lines)) / 2
    for line, box in zip(lines, boxes, strict=True):
        draw.text(((w - (box[2] - box[0])) / 2, y), line, font=font, fill=(235, 228, 214))
        y += line_h
    return np.asarray(image, np.uint8).copy()


def canvas_weave(w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    """A fine linen weave as a brightness factor around 1."""
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    threads = np.sin(xs * (2 * np.pi / 3.2)) * np.sin(ys * (2 * np.pi / 3.2))
    slub = rng.normal(0, 1, (h, w)).astype(np.float32)
    out: np.ndarray = 1 + 0.025 * threads + 0.012 * slub
    return out


def enlarge(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """`image` resized to size=(width, height) with Lanczos; the same array when it fits.

    The size every engine owes the worker when [upscale] asks for more than it generated
    (the fallback engine, or an upscaler that failed): what the display would do anyway.
    """
    _check_size(size)
    if (image.shape[1], image.shape[0]) == size:
        return image
    resized = Image.fromarray(image).resize(size, Image.Resampling.LANCZOS)
    return np.asarray(resized, dtype=np.uint8).copy()
