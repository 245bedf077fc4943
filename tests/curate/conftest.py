"""A small show for the curator tools: 2 dice x 3 faces, 64x64, the fallback engine."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from installation import cli
from installation.engines.images import placeholder
from installation.show.load import load_show
from installation.show.schema import Show
from installation.storage.png import save_png

SHOW_TOML = """
[show]
name = "small"
title = "Small"
[artwork]
paintings = ["art.png"]
[dice]
count = 2
faces = 3
[variations]
salt = "s1"
prompt = "a die, {die1}, {die2}"
variants = [["red", "green", "blue"], ["at dawn", "at noon", "at dusk"]]
strength = 0.7
width = 64
height = 64
engine = "fallback"
[display]
fullscreen = false
window_size = [160, 120]
fit = "cover"
transition_ms = 0
label = false
[osc]
listen = ""
"""


@pytest.fixture
def small_show(tmp_path: Path) -> Callable[..., Show]:
    """small_show(extra=''): the small show folder (extra TOML appended), loaded."""

    def make(extra: str = "") -> Show:
        folder = tmp_path / "small"
        folder.mkdir(exist_ok=True)
        save_png(placeholder((96, 96), "art"), folder / "art.png")
        (folder / "show.toml").write_text(SHOW_TOML + extra, "utf-8")
        return load_show(folder)

    return make


@pytest.fixture
def run_cli(monkeypatch: pytest.MonkeyPatch) -> Callable[[list[str]], int]:
    """The real CLI with the curator commands registered (until cli.py lists them)."""
    name = "installation.curate.commands"
    if name not in cli.COMMAND_MODULES:
        monkeypatch.setattr(cli, "COMMAND_MODULES", [*cli.COMMAND_MODULES, name])
    return cli.main
