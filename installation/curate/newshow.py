"""`installation new-show NAME`: a show folder to start from, valid from the first minute.

The commented show.toml comes from installation/templates/new-show/ (package data) and
the artwork is painter.placeholder, so `installation run` works before the real painting
arrives. An existing folder is never touched.
"""

from __future__ import annotations

import argparse
import re
import shutil
import string
import sys
from importlib import resources
from pathlib import Path

from installation.errors import CurateError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
TEMPLATE = "templates/new-show/show.toml"


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise CurateError(
            f"show name {name!r} cannot be a folder name here; use 1-64 letters, digits, "
            "'-' and '_', starting with a letter or digit (e.g. 'spring-2026')"
        )
    return name


def template_text(name: str, title: str) -> str:
    """The commented show.toml for a new show."""
    text = resources.files("installation").joinpath(TEMPLATE).read_text("utf-8")
    safe_title = title.replace("\\", "\\\\").replace('"', '\\"')
    return string.Template(text).substitute(name=name, title=safe_title)


def new_show(name: str, shows_dir: Path) -> Path:
    """Create shows_dir/name with show.toml and a placeholder artwork; the folder's path.

    Refuses (CurateError) when the folder exists. A failure part-way removes what it made.
    """
    from installation.engines.images import placeholder
    from installation.storage.png import save_png

    check_name(name)
    folder = shows_dir / name
    if folder.exists() or folder.is_symlink():
        raise CurateError(f"{folder} already exists; choose another name or remove it first")
    shows_dir.mkdir(parents=True, exist_ok=True)
    try:
        folder.mkdir()
    except FileExistsError:
        raise CurateError(f"{folder} already exists; choose another name") from None
    try:
        title = name.replace("-", " ").replace("_", " ").strip().capitalize()
        (folder / "show.toml").write_text(template_text(name, title), "utf-8")
        art = placeholder((768, 768), f"{title}\nPut your painting here\n(artwork.png)")
        save_png(art, folder / "artwork.png", {"Software": "installation new-show"})
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder


def run_new_show(args: argparse.Namespace) -> int:
    from installation.errors import ShowError
    from installation.show.load import load_show

    try:
        folder = new_show(args.name, Path(args.dir))
    except (CurateError, OSError) as e:
        print(f"new-show: {e}", file=sys.stderr)
        return 2
    try:
        load_show(folder)
    except ShowError as e:  # the template itself is broken: a bug, say so plainly
        print(f"new-show: the template does not validate (please report):\n{e}", file=sys.stderr)
        return 1
    print(f"created {folder}/show.toml and {folder}/artwork.png")
    print(f"next: edit {folder}/show.toml, then `installation validate {folder}`")
    return 0
