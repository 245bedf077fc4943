"""Live reload: the watcher swaps valid edits, refuses invalid ones with their line, and
diff_shows says exactly what changed and which outcomes' pictures are stale."""

from __future__ import annotations

import os
import queue
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from installation.errors import ShowError
from installation.show.changes import ShowChange, asset_stamps, diff_shows
from installation.show.load import load_show
from installation.show.schema import Show
from installation.show.watch import ShowWatcher, overlay_text

BASE = """
[show]
name = "r"
[artwork]
paintings = ["a.png", "b.png"]
[dice]
count = 2
faces = 3
[variations]
prompt = "x {die1} {die2}"
variants = [["r", "g", "b"], ["dawn", "noon", "dusk"]]
width = 64
height = 64
[osc]
listen = ""
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    f = tmp_path / "show"
    f.mkdir()
    Image.new("RGB", (8, 8), (200, 0, 0)).save(f / "a.png")
    Image.new("RGB", (8, 8), (0, 200, 0)).save(f / "b.png")
    (f / "show.toml").write_text(BASE, "utf-8")
    return f


def edited(folder: Path, old: str, new: str) -> Show:
    """The show with one text replacement in show.toml (saved atomically, as editors do)."""
    save(folder, (folder / "show.toml").read_text("utf-8").replace(old, new, 1))
    return load_show(folder)


def save(folder: Path, text: str) -> None:
    tmp = folder / ".show.toml.swp"
    tmp.write_text(text, "utf-8")
    os.replace(tmp, folder / "show.toml")


def test_one_variant_edit_stales_only_its_outcomes(folder: Path) -> None:
    old = load_show(folder)
    change = diff_shows(old, edited(folder, '"g"', '"green"'))
    assert change.keys == ("variations.variants",)
    assert change.renders == ("variations.variants",)
    assert change.restart == () and change.engine == () and not change.needs_new_worker
    assert change.stale == {"2-1", "2-2", "2-3"}


def test_prompt_template_edit_stales_every_outcome_it_touches(folder: Path) -> None:
    old = load_show(folder)
    change = diff_shows(old, edited(folder, "x {die1}", "y {die1}"))
    assert change.stale is not None and len(change.stale) == 9


@pytest.mark.parametrize(
    ("old", "new", "group", "key"),
    [
        ("steps = 4", "steps = 2", "renders", "variations.steps"),
        ("width = 64", "width = 128", "renders", "variations.width"),
        ("[show]", '[display]\nfit = "cover"\n[show]', "display", "display.fit"),
        ('name = "r"', 'name = "r"\ntitle = "T"', "display", "show.title"),
        ("count = 2", "count = 3", "restart", "dice.count"),
        ('listen = ""', 'listen = "127.0.0.1:9001"', "restart", "osc.listen"),
        ("[osc]", "[safety]\nblocked_seeds = [1]\n[osc]", "live", "safety.blocked_seeds"),
        ("[osc]", '[engine]\ndevice = "cpu"\n[osc]', "engine", "engine.device"),
        ("[osc]", "[dice]\n", "", ""),
    ],
)
def test_each_key_lands_in_its_group(
    folder: Path, old: str, new: str, group: str, key: str
) -> None:
    text = BASE.replace("width = 64", "width = 64\nsteps = 4")
    save(folder, text)
    before = load_show(folder)
    if old == "[osc]" and new == "[dice]\n":  # only formatting: nothing changed
        save(folder, text + "\n# a comment\n")
        assert not diff_shows(before, load_show(folder)).changed
        return
    change = diff_shows(before, edited(folder, old, new))
    assert change.keys == (key,)
    assert getattr(change, group) == (key,)
    others = {"renders", "display", "restart", "live", "engine"} - {group}
    if key in ("variations.steps", "variations.width"):
        assert change.stale is None  # parameters: every picture
        others -= {"engine"}
    if key == "engine.device":
        others -= {"renders"}
    assert all(getattr(change, g) == () for g in others), change


def test_a_repainted_painting_stales_only_the_outcomes_using_it(folder: Path) -> None:
    show = load_show(folder)
    before = asset_stamps(show)
    Image.new("RGB", (8, 8), (0, 0, 250)).save(folder / "b.png")
    change = diff_shows(show, show, old_assets=before, new_assets=asset_stamps(show))
    assert change.assets == ("b.png",) and change.needs_new_worker
    from installation.core.dice import Throw, all_outcomes
    from installation.core.variations import derive_variation
    from installation.show.schema import variation_rule

    rule = variation_rule(show)
    using_b = {v.key for v in (derive_variation(rule, Throw(f)) for f in all_outcomes(2, 3))
               if v.painting == 1}  # fmt: skip
    assert change.stale == using_b and 0 < len(using_b) < 9


def test_a_poster_saved_over_is_a_change_for_the_wall_only(folder: Path) -> None:
    Image.new("RGB", (8, 8), (9, 9, 9)).save(folder / "closed.png")
    show = edited(folder, "[dice]", '[display]\nstandby_image = "closed.png"\n[dice]')
    before = asset_stamps(show)
    assert diff_shows(show, show, old_assets=before, new_assets=asset_stamps(show)).changed is False
    Image.new("RGB", (8, 8), (250, 250, 0)).save(folder / "closed.png")
    change = diff_shows(show, show, old_assets=before, new_assets=asset_stamps(show))
    assert change.changed and change.pictures == ("closed.png",) and change.assets == ()
    assert not change.needs_new_worker and change.stale == frozenset()
    assert "closed.png" in change.summary()


# -- the watcher on a real folder ---------------------------------------------------------
def wait(q: queue.Queue[Show | ShowError]) -> Show | ShowError:
    return q.get(timeout=10)


@pytest.fixture
def watched(folder: Path) -> Callable[[], tuple[ShowWatcher, queue.Queue[Show | ShowError]]]:
    made: list[ShowWatcher] = []

    def start() -> tuple[ShowWatcher, queue.Queue[Show | ShowError]]:
        q: queue.Queue[Show | ShowError] = queue.Queue()
        w = ShowWatcher(folder, q.put, initial=load_show(folder), quiet_ms=50, wake_ms=50)
        made.append(w)
        w.start()
        assert w.armed.wait(10), "the watcher never started watching"
        return w, q

    yield start  # type: ignore[misc]
    for w in made:
        w.stop()


def test_watcher_swaps_valid_keeps_old_on_invalid_with_line(
    folder: Path, watched: Callable[[], tuple[ShowWatcher, queue.Queue[Show | ShowError]]]
) -> None:
    w, q = watched()
    first = w.last_good
    (folder / "var").mkdir()
    (folder / "var" / "noise.png").write_bytes(b"storage writes are not edits")
    text = BASE.replace('"dusk"', '"night"')
    save(folder, text)
    got = wait(q)
    assert isinstance(got, Show) and got.variations.variants[1][2] == "night"
    assert w.last_change is not None and w.last_change.stale == {"1-3", "2-3", "3-3"}
    save(folder, text.replace("width = 64", "width = 10"))
    bad = wait(q)
    assert isinstance(bad, ShowError)
    line = text.splitlines().index("width = 64") + 1
    assert bad.issues[0].line == line and bad.issues[0].path == "variations.width"
    assert w.last_good is got and w.last_good is not first
    assert f"show.toml:{line}" in overlay_text(bad)
    save(folder, text)  # the same good show again: reported, so the overlay can go
    assert wait(q) == got
    assert q.empty()


def saved_over(
    folder: Path, name: str, watched: Callable[[], tuple[ShowWatcher, Any]]
) -> ShowChange:
    """Save an image over `name` as editors do (a hidden temp file renamed over it) with the
    watcher running; the change it reports."""
    w, q = watched()
    Image.new("RGB", (8, 8), (250, 9, 9)).save(folder / ".saving", format="PNG")
    os.replace(folder / ".saving", folder / name)
    assert isinstance(wait(q), Show)
    assert w.last_change is not None
    return w.last_change


def test_watcher_sees_a_painting_replaced(
    folder: Path, watched: Callable[[], tuple[ShowWatcher, queue.Queue[Show | ShowError]]]
) -> None:
    assert saved_over(folder, "a.png", watched).assets == ("a.png",)


def test_watcher_sees_a_poster_saved_over_whatever_its_name(
    folder: Path, watched: Callable[[], tuple[ShowWatcher, queue.Queue[Show | ShowError]]]
) -> None:
    Image.new("RGB", (8, 8), (9, 9, 9)).save(folder / "closed-poster", format="PNG")
    save(folder, BASE.replace("[dice]", '[display]\nstandby_image = "closed-poster"\n[dice]'))
    assert saved_over(folder, "closed-poster", watched).pictures == ("closed-poster",)


def test_relevant_files(folder: Path) -> None:
    w = ShowWatcher(folder, lambda _: None, initial=load_show(folder))
    assert w.relevant(folder / "show.toml")
    assert w.relevant(folder / "a.png") and w.relevant(folder / "new.JPG")
    for ignored in ("var/cache/x.png", ".show.toml.swp", "show.toml~", "notes.txt"):
        assert not w.relevant(folder / ignored), ignored


def test_overlay_lists_a_few_issues() -> None:
    from installation.errors import ShowIssue

    err = ShowError([ShowIssue("show.toml", n, "k", "bad") for n in range(1, 10)])
    text = overlay_text(err, limit=3)
    assert text.count("show.toml:") == 3 and "6 more" in text
