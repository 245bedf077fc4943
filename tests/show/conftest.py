"""Fixtures for show tests: small show folders written into tmp_path."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from installation.errors import ShowError, ShowIssue
from installation.show.load import load_show


@pytest.fixture
def write_show(tmp_path: Path) -> Callable[[str], Path]:
    """write_show(text): show.toml (dedented) in a fresh show folder with a tiny art/p.png."""

    def write(text: str) -> Path:
        folder = tmp_path / "myshow"
        (folder / "art").mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (16, 16), (200, 30, 30)).save(folder / "art" / "p.png")
        (folder / "show.toml").write_text(textwrap.dedent(text), encoding="utf-8")
        return folder

    return write


@pytest.fixture
def problems(write_show: Callable[[str], Path]) -> Callable[[str], list[ShowIssue]]:
    """problems(text): every issue load_show reports for that show.toml (it must fail)."""

    def run(text: str) -> list[ShowIssue]:
        folder = write_show(text)
        with pytest.raises(ShowError) as info:
            load_show(folder)
        return info.value.issues

    return run


@pytest.fixture
def problem(problems: Callable[[str], list[ShowIssue]]) -> Callable[[str], ShowIssue]:
    """problem(text): the single issue reported for that show.toml."""

    def run(text: str) -> ShowIssue:
        found = problems(text)
        assert len(found) == 1, "\n".join(str(i) for i in found)
        return found[0]

    return run
