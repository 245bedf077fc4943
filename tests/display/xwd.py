"""Read an X window dump (xwd -root) into an HxWx3 RGB array: Pillow has no XWD reader.

Only what Xvfb writes at depth 24: ZPixmap, 24 or 32 bits per pixel, true colour masks.
"""

from __future__ import annotations

import struct

import numpy as np

_HEADER = struct.Struct(">25I")


def read_xwd(data: bytes) -> np.ndarray:
    fields = _HEADER.unpack_from(data)
    header_size, version, fmt, _depth, width, height = fields[:6]
    byte_order, bpp, bytes_per_line = fields[7], fields[11], fields[12]
    masks = fields[14:17]
    ncolors = fields[19]
    if version != 7 or fmt != 2 or bpp not in (24, 32):
        raise ValueError(f"unsupported xwd: version {version}, format {fmt}, {bpp} bpp")
    start = header_size + 12 * ncolors
    n = bpp // 8
    rows = np.frombuffer(data, np.uint8, bytes_per_line * height, start)
    raw = rows.reshape(height, bytes_per_line)[:, : width * n].reshape(height, width, n)
    order = range(n) if byte_order == 0 else range(n - 1, -1, -1)  # 0: least significant first
    words = np.zeros((height, width), np.uint32)
    for i, b in enumerate(order):
        words |= raw[..., b].astype(np.uint32) << (8 * i)
    out = np.empty((height, width, 3), np.uint8)
    for c, mask in enumerate(masks):
        shift = (mask & -mask).bit_length() - 1
        out[..., c] = (words & mask) >> shift
    return out
