"""Rules for the files and folders a show names: where they may be, and what they must be.

Paintings, the mask and the standby poster belong to the show: they must resolve inside
the show folder (no absolute path, no ../, no symbolic link leading out), be regular
files of bounded size and readable images within Pillow's decompression-bomb limit.
Models, their config, TAESD and the safety checker may be anywhere (models live on a
data disk). A model path that is not there (yet) is a warning, not an error: the show runs
with the fallback engine and takes the model when its disk mounts (model_warnings).
Storage may be inside the show or an absolute folder on a data disk, never a system
folder, since old cache and archive files in it are deleted.
"""

from __future__ import annotations

import os
import re
import stat
import warnings
from collections.abc import Iterator
from pathlib import Path

from installation.show.files import IMAGE_FILE_LIMIT, FileProblem, kind_of, open_regular
from installation.show.rules import Issue, rule
from installation.show.schema import Show

_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
# Storage is pruned (old files deleted): never inside these, nor exactly one of _ROOTS.
SYSTEM_FOLDERS = (
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/proc",
    "/run",
    "/sbin",
    "/sys",
    "/usr",
)
_ROOTS = ("/", "/home", "/root", "/tmp", "/var", "/var/tmp", "/srv", "/mnt", "/media", "/opt")


def _resolve(show: Show, p: Path) -> Path:
    """show.resolve, but never raising: an unusable path is reported by _missing."""
    try:
        return show.resolve(p)
    except (OSError, ValueError, RuntimeError):  # a NUL character, a symlink loop
        return show.folder / p


def _missing(path: Path, want: str = "a regular file or a folder") -> str | None:
    """Why `path` cannot be used as an existing file or folder, or None."""
    if "\x00" in str(path):  # pathlib quietly answers False; mkdir/open would raise
        return "is not a usable path (it contains a NUL character)"
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return f"not found (looked for {path})"
    except (OSError, ValueError) as e:  # a name too long, a symlink loop, no permission
        return f"is not a usable path ({e})"
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        return f"is {kind_of(mode)} ({path}); expected {want}"
    return None


def outside_show(show: Show, written: Path) -> str | None:
    """Why a path that must stay inside the show folder does not, or None."""
    example = f"copy the file into the show folder ({show.folder}) and name it from there"
    if written.is_absolute():
        return f"is an absolute path; write it relative to the show folder: {example}"
    if os.path.normpath(written).split(os.sep)[0] == "..":
        return f"leads out of the show folder (../); {example}"
    resolved = _resolve(show, written)
    if not resolved.is_relative_to(show.folder):
        return f"leads out of the show folder (to {resolved}, through a symbolic link); {example}"
    return None


def image_problem(path: Path) -> str | None:
    """Why `path` is not a usable image: not a regular file, too large, not an image,
    or more pixels than Pillow's decompression-bomb limit. Never blocks on a FIFO."""
    from PIL import Image  # only here: keeps the schema import light

    want = "an image file such as a PNG or JPEG"
    if missing := _missing(path, want):
        return missing
    if path.is_dir():
        return f"is a folder ({path}); expected {want}"
    limit = Image.MAX_IMAGE_PIXELS
    try:
        with open_regular(path, IMAGE_FILE_LIMIT) as f, warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # checked below
            with Image.open(f) as im:
                w, h = im.size
                if limit and w * h > limit:
                    return _too_many_pixels(path, w, h, limit)
                im.verify()
    except FileProblem as e:
        return f"{e} ({path})"
    except Image.DecompressionBombError:  # over twice the limit: refused by open itself
        return _too_many_pixels(path, 0, 0, limit or 0)
    except Exception as e:  # PIL raises many kinds; all mean "cannot use this file"
        return f"is not a readable image ({path}: {e})"
    return None


def _too_many_pixels(path: Path, w: int, h: int, limit: int) -> str:
    size = f"{w} x {h} = {w * h} pixels" if w else "far more pixels than that"
    return (
        f"is {size} ({path}); images over {limit} pixels are refused (Pillow's "
        "decompression-bomb limit): scale it down, e.g. to 4096 pixels on the long side"
    )


def _show_image(show: Show, written: Path) -> str | None:
    return outside_show(show, written) or image_problem(_resolve(show, written))


@rule("display.standby_image")
def standby_image(show: Show) -> Iterator[Issue]:
    poster = show.display.standby_image
    if poster is not None and (problem := _show_image(show, poster)):
        yield ("display", "standby_image"), f"standby image {str(poster)!r} {problem}"


@rule("artwork.paintings", "artwork.mask")
def artwork_images(show: Show) -> Iterator[Issue]:
    """Each painting and the mask must be a readable image; a mask needs a painting."""
    art = show.artwork
    for i, p in enumerate(art.paintings):
        if problem := _show_image(show, p):
            yield ("artwork", "paintings", i), f"painting {str(p)!r} {problem}"
    if art.mask is not None:
        if problem := _show_image(show, art.mask):
            yield ("artwork", "mask"), f"mask {str(art.mask)!r} {problem}"
        if not art.paintings:
            yield ("artwork", "mask"), "a mask needs a painting to repaint; add artwork.paintings"


def _model_disk(show: Show) -> list[tuple[tuple[str, str], Path | None]]:
    """The paths that live with the model, on a data disk that may mount late."""
    return [
        (("variations", "model"), show.variations.model),
        (("variations", "model_config_dir"), show.variations.model_config_dir),
        (("engine", "tiny_vae"), show.engine.tiny_vae),
        (("safety", "checker"), show.safety.checker),
        (("upscale", "model"), show.upscale.model if show.upscale else None),
    ]


def _not_found(show: Show, value: Path) -> str | None:
    missing = _missing(_resolve(show, value))
    return missing if missing is not None and missing.startswith("not found") else None


def model_warnings(show: Show) -> list[Issue]:
    """Model paths that do not exist (a model disk that did not mount): not errors, since
    the show runs with the fallback engine until they appear (the worker tries again every
    minute and on reload), but worth a line in `validate`."""
    out: list[Issue] = []
    for loc, value in _model_disk(show):
        if value is None or (loc == ("variations", "model") and _looks_like_repo_id(show, value)):
            continue
        if missing := _not_found(show, value):
            out.append(
                (
                    loc,
                    f"{str(value)!r} {missing}: {_meanwhile(loc)}; mount the model "
                    "disk or fix the path",
                )
            )
    return out


def _meanwhile(loc: tuple[str, str]) -> str:
    if loc[0] == "upscale":
        return (
            "pictures are enlarged with Lanczos instead of upscaled until it appears (it "
            "is tried again whenever the generation worker starts)"
        )
    return (
        "the fallback engine renders until it appears (the model is tried again every "
        "minute and on reload)"
    )


def _looks_like_repo_id(show: Show, model: Path) -> bool:
    """'org/name', relative, and its first folder is not in the show (not even a link)."""
    if model.is_absolute() or not _REPO_ID.match(str(model)):
        return False
    first = _resolve(show, Path(model.parts[0]))
    try:
        os.lstat(first)  # a symbolic link to a data disk that is not mounted counts
    except (OSError, ValueError):
        return True
    return False


@rule("variations.model", "variations.engine", "variations.model_config_dir")
def model_present(show: Show) -> Iterator[Issue]:
    """The model is local, never fetched at show time; a single file needs its config. A
    path that is simply not there is model_warning's, not an error."""
    v = show.variations
    if v.model is None:
        if v.engine == "diffusers":
            yield (
                ("variations", "engine"),
                (
                    "engine 'diffusers' needs a model: set variations.model to a local model "
                    "folder, or use engine = 'auto' or 'fallback'"
                ),
            )
        return
    path, written = _resolve(show, v.model), str(v.model)
    if (missing := _missing(path)) is None:
        if path.is_file() and v.model_config_dir is None:
            yield (
                ("variations", "model_config_dir"),
                (
                    f"model {written!r} is a single-file checkpoint; set model_config_dir to its "
                    "local diffusers config folder (without it diffusers may try to download one)"
                ),
            )
        return
    if _looks_like_repo_id(show, v.model):
        name = written.split("/")[-1]
        yield (
            ("variations", "model"),
            (
                f"{written!r} is not a folder or file in the show (looked for {path}); it looks "
                "like a Hugging Face repo id, and shows only use local models. Fetch it once with "
                f"`installation models pull {written} --to models/{name}`, "
                f"then set model = 'models/{name}'"
            ),
        )
    elif not missing.startswith("not found"):  # not found: a warning (model_warnings)
        yield (
            ("variations", "model"),
            (
                f"model {written!r} {missing}; expected a local diffusers "
                "folder or a single-file checkpoint"
            ),
        )


@rule("variations.model_config_dir", "engine.tiny_vae", "safety.checker")
def optional_paths(show: Show) -> Iterator[Issue]:
    """Folders that, when set, must be usable (anywhere: models live on data disks). One
    that is not there at all is model_warnings', not an error."""
    for loc, value in _model_disk(show)[1:4]:  # upscale.model: upscale_rules
        missing = None if value is None else _missing(_resolve(show, value))
        if missing and not missing.startswith("not found"):
            yield loc, f"{str(value)!r} {missing}"


def _home() -> Path | None:
    try:
        return Path.home()
    except (RuntimeError, KeyError):  # no HOME and no passwd entry
        return None


def storage_problem(show: Show, written: Path) -> str | None:
    """Why `written` cannot be the storage folder, or None (it need not exist yet)."""
    own = (
        "storage holds the cache and archive and deletes old files in it: use a folder of "
        "its own, e.g. 'var' in the show folder or '/srv/installation/var' on a data disk"
    )
    # A relative storage may be a symbolic link to a data disk: only ../ is refused here,
    # the folder it resolves to is checked below like an absolute one.
    if not written.is_absolute() and os.path.normpath(written).split(os.sep)[0] == "..":
        return (
            "leads out of the show folder (../); use a folder inside it, e.g. 'var', or an "
            "absolute path on a data disk, e.g. '/srv/installation/var'"
        )
    path = _resolve(show, written)
    missing = _missing(path)
    if missing and not missing.startswith("not found"):
        return missing
    for candidate in dict.fromkeys((Path(os.path.normpath(written)), path)):
        text = str(candidate)
        system = next((s for s in SYSTEM_FOLDERS if text == s or text.startswith(s + "/")), None)
        if system:
            return f"is inside the system folder {system} ({text}); {own}"
        if text in _ROOTS or candidate == _home():
            return f"is {text} itself, not a folder of its own; {own}"
    if missing is None and not path.is_dir():
        return f"is a file ({path}); expected a folder"
    return None


@rule("storage.dir")
def storage_folder(show: Show) -> Iterator[Issue]:
    """Storage is created at start; it must be a possible folder of its own."""
    if problem := storage_problem(show, show.storage.dir):
        yield ("storage", "dir"), f"{str(show.storage.dir)!r} {problem}"
