"""Exotic files as show.toml or as a painting: never a hang, a traceback or unbounded
reading; always a ShowError naming the file and what is wrong with it."""

from __future__ import annotations

import contextlib
import os
import struct
import threading
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from installation.errors import ShowError, ShowIssue
from installation.show.files import IMAGE_FILE_LIMIT, SHOW_FILE_LIMIT
from installation.show.load import load_show

Problem = Callable[[str], ShowIssue]
DEADLINE_S = 30.0  # far beyond a load's real cost; only a hang reaches it


def load_within(path: Path, fifos: tuple[Path, ...] = ()) -> ShowError | None:
    """load_show in a thread with a deadline: a regression that blocks on a FIFO fails
    the test instead of hanging it (and the FIFO is then opened for writing and closed,
    which gives the stuck reader an end of file)."""
    result: list[BaseException | None] = []

    def run() -> None:
        try:
            load_show(path)
            result.append(None)
        except BaseException as e:  # handed to the test thread
            result.append(e)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(DEADLINE_S)
    if thread.is_alive():
        for fifo in fifos:
            with contextlib.suppress(OSError):
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail(f"load_show({path}) still running after {DEADLINE_S} s")
    (error,) = result
    if error is not None and not isinstance(error, ShowError):
        raise error
    return error


def single(error: ShowError | None) -> ShowIssue:
    assert error is not None, "the show loaded"
    assert len(error.issues) == 1, "\n".join(str(i) for i in error.issues)
    return error.issues[0]


# -- show.toml itself -----------------------------------------------------------------------
def test_a_fifo_as_show_toml_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "show.toml")
    issue = single(load_within(tmp_path, fifos=(tmp_path / "show.toml",)))
    assert issue.file == str(tmp_path / "show.toml")
    assert issue.message.startswith("is a named pipe (FIFO), not a regular file; expected")


def test_dev_null_is_not_a_valid_show() -> None:
    issue = single(load_within(Path("/dev/null")))
    assert issue.message.startswith("is a character device, not a regular file")


def test_a_symlink_to_dev_zero_is_refused_with_where_it_leads(tmp_path: Path) -> None:
    (tmp_path / "show.toml").symlink_to("/dev/zero")
    issue = single(load_within(tmp_path))
    assert "is a character device, not a regular file (it leads to /dev/zero)" in issue.message


def test_a_folder_named_show_toml_is_refused(tmp_path: Path) -> None:
    (tmp_path / "show.toml").mkdir()
    issue = single(load_within(tmp_path))
    assert issue.message.startswith("is a folder, not a regular file")


def test_a_show_toml_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    text = "[show]\nname = 'big'\n"
    (tmp_path / "show.toml").write_text(text + "#" * (SHOW_FILE_LIMIT - len(text)) + "\n")
    issue = single(load_within(tmp_path))
    assert issue.message == f"is {SHOW_FILE_LIMIT + 1} bytes; the limit is 262144 bytes (256 KiB)"
    (tmp_path / "show.toml").write_text(text + "#" * (SHOW_FILE_LIMIT - len(text) - 1) + "\n")
    assert load_within(tmp_path) is None  # exactly at the limit: read


@pytest.mark.parametrize(
    ("text", "line", "path", "words"),
    [
        ("[show]\nx = " + "[" * 5000 + "]" * 5000, 2, "", ["nested more than 16 deep"]),
        ("a = 1\nx = " + "{a=" * 5000 + "1" + "}" * 5000, 2, "", ["nested more than 16 deep"]),
        ("x = [\n" + "[\n" * 20 + "]\n" * 21, 17, "", ["nested more than 16 deep"]),
        ("a" + ".a" * 5000 + " = 1", 1, "", ["more than 16 dotted parts"]),
        ("[" + "a." * 5000 + "a]", 1, "", ["more than 16 dotted parts"]),
        ("[[" + "a." * 5000 + "a]]", 1, "", ["more than 16 dotted parts"]),
        ("[dice]\n\ncount = " + "9" * 5000, 3, "", ["more than 4300 digits", "64-bit"]),
        ("[dice]\ncount = 0x" + "f" * 5000, 2, "dice.count", ["out of TOML's 64-bit range"]),
        ("[dice]\ncount = 9223372036854775808", 2, "dice.count", ["64-bit range"]),
        (
            "[safety]\nblocked_seeds = [1, 0o" + "7" * 30 + "]",
            2,
            "safety.blocked_seeds[1]",
            ["64-bit range"],
        ),
        ("x.y.z.w = [[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]", 1, "", ["nested more than 16"]),
    ],
)
def test_deep_and_huge_toml_is_refused_with_its_line(
    tmp_path: Path, text: str, line: int, path: str, words: list[str]
) -> None:
    (tmp_path / "show.toml").write_text(text + "\n")
    issue = single(load_within(tmp_path))
    assert (issue.line, issue.path) == (line, path), str(issue)
    for word in words:
        assert word in issue.message, str(issue)


def test_deep_structure_in_strings_and_comments_is_just_text(
    write_show: Callable[[str], Path],
) -> None:
    text = "[show]\ntitle = '" + "[{" * 90 + "'  # " + "[" * 500 + '\nartist = "a.b.c"\n'
    show = load_show(write_show(text))
    assert show.show.title.startswith("[{[{")


# -- paintings, mask and poster ---------------------------------------------------------------
def test_a_fifo_as_painting_is_refused_without_blocking(write_show: Callable[[str], Path]) -> None:
    folder = write_show("[artwork]\npaintings = ['art/pipe.png']\n")
    os.mkfifo(folder / "art" / "pipe.png")
    issue = single(load_within(folder, fifos=(folder / "art" / "pipe.png",)))
    assert issue.path == "artwork.paintings[0]"
    assert "painting 'art/pipe.png' is a named pipe (FIFO)" in issue.message


def test_a_fifo_as_poster_is_refused_without_blocking(write_show: Callable[[str], Path]) -> None:
    folder = write_show("[display]\nstandby_image = 'poster.png'\n")
    os.mkfifo(folder / "poster.png")
    issue = single(load_within(folder, fifos=(folder / "poster.png",)))
    assert issue.path == "display.standby_image"
    assert "is a named pipe (FIFO)" in issue.message


def test_a_painting_linked_to_dev_zero_is_refused(write_show: Callable[[str], Path]) -> None:
    folder = write_show("[artwork]\npaintings = ['art/p.png', 'zero.png']\n")
    (folder / "zero.png").symlink_to("/dev/zero")
    issue = single(load_within(folder))
    assert issue.path == "artwork.paintings[1]"
    assert "leads out of the show folder (to /dev/zero" in issue.message


def test_a_device_is_not_an_image() -> None:
    from installation.show.path_rules import image_problem

    assert image_problem(Path("/dev/zero")) == (
        "is a character device (/dev/zero); expected an image file such as a PNG or JPEG"
    )


def test_a_painting_over_the_size_limit_is_refused(write_show: Callable[[str], Path]) -> None:
    folder = write_show("[artwork]\npaintings = ['art/huge.png']\n")
    with open(folder / "art" / "huge.png", "wb") as f:  # sparse: no disk space used
        f.truncate(IMAGE_FILE_LIMIT + 1)
    issue = single(load_within(folder))
    assert f"is {IMAGE_FILE_LIMIT + 1} bytes; the limit is {IMAGE_FILE_LIMIT}" in issue.message


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a size in its header: what a decompression bomb looks like to
    Image.open (which reads only the header)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.mark.parametrize(("width", "height"), [(10000, 9000), (100000, 100000)])
def test_decompression_bombs_are_refused_with_the_limit(
    write_show: Callable[[str], Path], width: int, height: int
) -> None:
    folder = write_show("[artwork]\npaintings = ['art/p.png']\nmask = 'art/bomb.png'\n")
    (folder / "art" / "bomb.png").write_bytes(_png_header_only(width, height))
    issue = single(load_within(folder))
    assert issue.path == "artwork.mask"
    assert f"images over {Image.MAX_IMAGE_PIXELS} pixels are refused" in issue.message
    assert "decompression-bomb limit" in issue.message and "scale it down" in issue.message


# -- where the show's files may be -------------------------------------------------------------
def _outside(tmp_path: Path) -> Path:
    Image.new("RGB", (8, 8)).save(tmp_path / "outside.png")
    return tmp_path / "outside.png"


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("ABSOLUTE", ["is an absolute path; write it relative to the show folder"]),
        ("../outside.png", ["leads out of the show folder (../)"]),
        ("art/../../outside.png", ["leads out of the show folder (../)"]),
        ("link.png", ["leads out of the show folder (to ", "through a symbolic link"]),
    ],
)
@pytest.mark.parametrize(
    ("section", "name", "path"),
    [
        ("artwork", "paintings = ['{}']", "artwork.paintings[0]"),
        ("artwork", "paintings = ['art/p.png']\nmask = '{}'", "artwork.mask"),
        ("display", "standby_image = '{}'", "display.standby_image"),
    ],
)
def test_show_images_must_stay_inside_the_show_folder(
    write_show: Callable[[str], Path],
    tmp_path: Path,
    key: str,
    words: list[str],
    section: str,
    name: str,
    path: str,
) -> None:
    outside = _outside(tmp_path)
    value = str(outside) if key == "ABSOLUTE" else key
    folder = write_show(f"[{section}]\n" + name.format(value) + "\n")
    (folder / "link.png").symlink_to(outside)
    issue = single(load_within(folder))
    assert issue.path == path
    for word in words:
        assert word in issue.message, str(issue)


def test_paths_that_wander_but_stay_inside_are_fine(write_show: Callable[[str], Path]) -> None:
    folder = write_show("[artwork]\npaintings = ['art/./p.png', 'art/sub/../p.png', 'in.png']\n")
    (folder / "in.png").symlink_to(folder / "art" / "p.png")
    assert len(load_show(folder).artwork.paintings) == 3


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("/etc", ["is inside the system folder /etc (/etc)", "a folder of its own"]),
        ("/etc/installation", ["inside the system folder /etc"]),
        ("/usr/local/var/show", ["inside the system folder /usr"]),
        ("/proc/self", ["inside the system folder /proc"]),
        ("/", ["is / itself, not a folder of its own"]),
        ("/tmp", ["is /tmp itself"]),
        ("/home", ["is /home itself"]),
        ("/srv/../etc", ["inside the system folder /etc"]),
        ("../var", ["leads out of the show folder (../)", "absolute path on a data disk"]),
        ("LINK-TO-ETC", ["inside the system folder /etc (/etc)"]),
    ],
)
def test_storage_is_a_folder_of_its_own_never_a_system_folder(
    write_show: Callable[[str], Path], value: str, words: list[str]
) -> None:
    folder = write_show(f"[storage]\ndir = '{'var' if value == 'LINK-TO-ETC' else value}'\n")
    if value == "LINK-TO-ETC":
        (folder / "var").symlink_to("/etc")
    issue = single(load_within(folder))
    assert issue.path == "storage.dir"
    for word in words:
        assert word in issue.message, str(issue)


def test_storage_on_a_data_disk_or_linked_to_one_is_fine(
    write_show: Callable[[str], Path], tmp_path: Path
) -> None:
    disk = tmp_path / "datadisk" / "installation"
    assert load_show(write_show(f"[storage]\ndir = '{disk}'\n")).storage_dir == disk
    folder = write_show("[storage]\ndir = 'var'\n")
    disk.mkdir(parents=True)
    (folder / "var").symlink_to(disk)
    assert load_show(folder).storage_dir == disk


def test_models_may_live_anywhere(write_show: Callable[[str], Path], tmp_path: Path) -> None:
    models = tmp_path / "models" / "sd"
    models.mkdir(parents=True)
    show = load_show(
        write_show(f"[variations]\nmodel = '{models}'\n[engine]\ntiny_vae = '../models'\n")
    )
    assert show.resolve(show.variations.model or Path()) == models


def test_a_fifo_as_model_is_named(write_show: Callable[[str], Path]) -> None:
    folder = write_show("[variations]\nmodel = 'model.safetensors'\n")
    os.mkfifo(folder / "model.safetensors")
    issue = single(load_within(folder, fifos=(folder / "model.safetensors",)))
    assert issue.path == "variations.model"
    assert "is a named pipe (FIFO)" in issue.message and "expected a regular file" in issue.message
