"""What a cache file must be before it is decoded, and the bounded read that checks it.

A cache file is `<key>.png` in <storage>/cache, where the key is a digest over what
shapes the pixels (keys.py) and the file's own `cache-key` text repeats it. Anything
with write access to storage can put a file there, so each is checked before its pixels
are decoded: a regular file (never a link, a FIFO or a device), at most the bytes a PNG
of the show's size can take, a PNG header of exactly the show's width and height in RGB,
and the key text equal to the name. Only then is it decoded, and that decode is bounded
by the checked size. A failed check raises Rejected with its kind.
"""

from __future__ import annotations

import errno
import io
import os
import stat
from pathlib import Path

import numpy as np
from PIL import Image

from installation.core.variations import RenderParams

KEY_TEXT = "cache-key"
TEXT_ALLOWANCE = 1024 * 1024  # text chunks (prompt ...) on top of the pixels


class Rejected(Exception):
    """A cache file that failed a check; `kind` names which (for counting and logging)."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind, self.detail = kind, detail


def max_file_bytes(params: RenderParams) -> int:
    """The largest cache PNG of this size: the raw pixels (PNG's worst case is a little
    above them: a filter byte a row, zlib's stored blocks), plus room for the text."""
    width, height = params.output_size()
    raw = width * height * 3
    return raw + raw // 64 + height + TEXT_ALLOWANCE


def read_entry(path: Path, key: str, params: RenderParams) -> np.ndarray:
    """The checked, decoded image (read-only HxWx3 uint8). Rejected for a file that fails
    a check; FileNotFoundError when gone; other OSError for the disk's own trouble."""
    data = bounded_read(path, max_file_bytes(params))
    want = params.output_size()
    try:
        with Image.open(io.BytesIO(data), formats=["PNG"]) as im:
            if im.size != want:
                raise Rejected("wrong_size", f"{im.size[0]}x{im.size[1]}, not {want[0]}x{want[1]}")
            if im.mode != "RGB":
                raise Rejected("wrong_mode", f"mode {im.mode}, not RGB")
            if im.info.get(KEY_TEXT) != key:  # text before the pixels: read without decoding
                raise Rejected("wrong_key", f"its {KEY_TEXT} text is not its name")
            im.load()
            image = np.asarray(im, dtype=np.uint8)
    except Rejected:
        raise
    except Exception as e:  # truncated, not a PNG, bad chunks, a bomb Pillow refuses ...
        raise Rejected("unreadable", f"{type(e).__name__}: {e}") from None
    if image.shape != (want[1], want[0], 3):
        raise Rejected("wrong_size", f"decoded as {image.shape}")
    image.flags.writeable = False
    return image


def bounded_read(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; Rejected for a link, a FIFO,
    a device or a bigger file (O_NONBLOCK: opening a FIFO never waits for a writer)."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise Rejected("not_a_file", "a symlink") from None
        raise
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise Rejected("not_a_file", "not a regular file")
        if st.st_size > limit:
            raise Rejected("too_big", f"{st.st_size} bytes, over {limit} for this size")
        data = f.read(limit + 1)
    if len(data) > limit:  # it grew since the fstat
        raise Rejected("too_big", f"over {limit} bytes for this size")
    return data
