"""new-show: a valid, commented show with a placeholder painting; never overwrites."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from installation.curate.newshow import new_show
from installation.engines.images import load_rgb
from installation.errors import CurateError
from installation.show.load import load_show


def test_new_show_validates_and_has_artwork(tmp_path: Path) -> None:
    folder = new_show("spring-2026", tmp_path / "shows")
    show = load_show(folder)
    assert show.show.name == "spring-2026"
    assert show.show.title == "Spring 2026"
    assert load_rgb(folder / "artwork.png").shape == (768, 768, 3)
    text = (folder / "show.toml").read_text("utf-8")
    assert text.count("#") > 20  # commented for curators
    assert "$" not in text  # every template field filled


def test_refuses_an_existing_folder_and_leaves_it_alone(tmp_path: Path) -> None:
    folder = tmp_path / "shows" / "mine"
    folder.mkdir(parents=True)
    (folder / "show.toml").write_text("precious", "utf-8")
    with pytest.raises(CurateError, match="already exists"):
        new_show("mine", tmp_path / "shows")
    assert (folder / "show.toml").read_text("utf-8") == "precious"


@pytest.mark.parametrize("name", ["", "../up", "a/b", ".hidden", "x" * 65, "sp ace"])
def test_bad_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(CurateError, match="letters, digits"):
        new_show(name, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_cli_new_show_then_validate(
    run_cli: Callable[[list[str]], int],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shows = tmp_path / "shows"
    assert run_cli(["new-show", "hall", "--dir", str(shows)]) == 0
    assert run_cli(["validate", str(shows / "hall")]) == 0
    assert run_cli(["new-show", "hall", "--dir", str(shows)]) == 2
    assert "already exists" in capsys.readouterr().err
