"""What the disk cache finds is checked before it is decoded (issue 13.13), and its
deletions never leave storage or follow a link (13.8): real files, FIFOs and links."""

from __future__ import annotations

import json
import logging
import os
import stat
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from installation.cache.entry_file import KEY_TEXT, max_file_bytes
from tests.cache.test_cache import PARAMS, image_for, make, var

LOGGER = "installation.cache.outcome_cache"


def chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def bomb_png(path: Path, side: int, key: str) -> None:
    """A valid RGB PNG of side x side black pixels with the right key text: a few hundred
    KB on disk, side*side*3 bytes once decoded. Streamed: never held in memory here."""
    row = b"\x00" * (1 + 3 * side)
    z = zlib.compressobj(9)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)))
        f.write(chunk(b"tEXt", KEY_TEXT.encode() + b"\x00" + key.encode()))
        for _ in range(side):
            data = z.compress(row)
            if data:
                f.write(chunk(b"IDAT", data))
        f.write(chunk(b"IDAT", z.flush()))
        f.write(chunk(b"IEND", b""))


def planted(tmp_path: Path) -> tuple[object, object, Path]:
    """A cache with one real entry; returns the cache's variation, its key and file path."""
    c, v = make(tmp_path), var((2, 2))
    assert c.put(v, image_for(v))
    return v, c.key(v), c.path(c.key(v) or "")


def test_a_decompression_bomb_with_the_right_key_is_refused_from_its_header(
    tmp_path: Path,
) -> None:
    """8000 x 8000 (192 MB decoded) under the right name and key: read in a fresh process,
    its peak memory stays far below the decoded size, and the entry is dropped."""
    _, key, path = planted(tmp_path)
    bomb_png(path, 8000, str(key))
    assert path.stat().st_size < max_file_bytes(PARAMS)  # the size bound alone lets it by
    script = f"""
import json, resource, sys
sys.path.insert(0, {str(Path(__file__).parents[2])!r})
from tests.cache.test_cache import make, var
from pathlib import Path
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
c = make(Path({str(tmp_path)!r}))
image = c.get(var((2, 2)))
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"hit": image is not None, "grew_kb": after - before,
                  "rejected": c.stats().get("rejected")}}))
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    result = json.loads(out.stdout.splitlines()[-1])
    assert result["hit"] is False
    assert result["rejected"] == {"wrong_size": 1}
    assert result["grew_kb"] < 50_000, result  # decoding would take 192 MB
    assert not path.exists()


def test_each_kind_of_bad_file_is_dropped_counted_and_logged_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    c = make(tmp_path)
    vs = [var((a, b)) for a in (1, 2, 3) for b in (1, 2, 3)]
    for v in vs:
        assert c.put(v, image_for(v))
    paths = [c.path(c.key(v) or "") for v in vs]
    # two of a size other than the show's, with the right key text
    for p, side in ((paths[0], (8, 8)), (paths[1], (640, 480))):
        info = PngImagePlugin.PngInfo()
        info.add_text(KEY_TEXT, p.stem)
        Image.new("RGB", side).save(p, pnginfo=info)
    # bigger than any PNG of 64x48 can be
    paths[2].write_bytes(paths[2].read_bytes() + b"\0" * max_file_bytes(PARAMS))
    # RGBA of the right size and key
    info = PngImagePlugin.PngInfo()
    info.add_text(KEY_TEXT, paths[3].stem)
    Image.new("RGBA", (PARAMS.width, PARAMS.height)).save(paths[3], pnginfo=info)
    again = make(tmp_path)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        for v in vs:
            again.get(v)
    s = again.stats()
    assert s["rejected"] == {"wrong_size": 2, "too_big": 1, "wrong_mode": 1}
    assert s["corrupt"] == 4 and s["disk_hits"] == len(vs) - 4
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3, lines  # once per kind, not once per file
    assert not any(p.exists() for p in paths[:4]) and all(p.exists() for p in paths[4:])


def test_a_link_or_a_fifo_in_place_of_an_entry_is_dropped_never_followed(
    tmp_path: Path,
) -> None:
    c = make(tmp_path, memory_mb=0)  # every get reads the disk
    v, w = var((1, 3)), var((3, 1))
    assert c.put(v, image_for(v)) and c.put(w, image_for(w))
    target = tmp_path / "precious.png"
    link, fifo = c.path(c.key(v) or ""), c.path(c.key(w) or "")
    os.replace(link, target)
    link.symlink_to(target)  # swapped after the start scan indexed it
    fifo.unlink()
    os.mkfifo(fifo)  # opening it for reading must not wait for a writer
    assert c.get(v) is None and c.get(w) is None
    assert c.stats()["rejected"] == {"not_a_file": 2, "refused": 2}
    assert target.exists() and link.is_symlink() and stat.S_ISFIFO(fifo.lstat().st_mode)
    assert not c.contains(v) and not c.contains(w)


def test_fresh_mode_discard_and_eviction_stay_inside_storage(tmp_path: Path) -> None:
    """The cache folder linked elsewhere: nothing there is indexed, evicted, discarded
    or written; the cache goes on in memory."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    src = make(tmp_path / "other")
    vs = [var((a, 1)) for a in (1, 2, 3)]
    for v in vs:
        assert src.put(v, image_for(v, noise=True))
    for p in (tmp_path / "other" / "cache").iterdir():
        os.replace(p, elsewhere / p.name)
    kept = sorted(p.name for p in elsewhere.iterdir())
    (tmp_path / "cache").symlink_to(elsewhere)
    c = make(tmp_path, disk_mb=0.01)  # far over budget: the start would evict
    assert c.stats()["disk_entries"] == 0
    for v in vs:
        c.discard(v)
    w = var((1, 2))
    assert not c.put(w, image_for(w)) and c.get(w) is not None  # in memory only
    assert sorted(p.name for p in elsewhere.iterdir()) == kept
    assert c.stats()["disk_errors"] == 1


def test_a_good_entry_still_hits_and_is_unchanged(tmp_path: Path) -> None:
    v, _, path = planted(tmp_path)
    again = make(tmp_path)
    image = again.get(v)
    assert image is not None and np.array_equal(image, image_for(v))  # type: ignore[arg-type]
    assert again.stats()["rejected"] == {} and path.exists()
