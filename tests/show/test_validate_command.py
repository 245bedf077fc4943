"""`installation validate SHOW` through the real CLI entry point."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from installation import cli

MODULE = "installation.show.commands"


@pytest.fixture(autouse=True)
def with_validate(monkeypatch: pytest.MonkeyPatch) -> None:
    """The lead adds the module to cli.COMMAND_MODULES; until then the test does."""
    modules = list(cli.COMMAND_MODULES)
    if MODULE not in modules:
        modules.append(MODULE)
    monkeypatch.setattr(cli, "COMMAND_MODULES", modules)


def test_valid_show_prints_the_summary_and_exits_0(
    write_show: Callable[[str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_show(
        """\
        [show]
        name = "garden"
        title = "The Garden"
        artist = "A. Painter"
        [artwork]
        paintings = ["art/p.png"]
        [dice]
        count = 3
        faces = 4
        ports = ["usb:2341:0043"]
        [variations]
        seed_mode = "fresh"
        width = 768
        [[osc.targets]]
        name = "sound"
        host = "10.0.0.5"
        port = 9001
        mode = "bundle"
        """
    )
    assert cli.main(["validate", str(folder)]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        "show      garden: 'The Garden' by A. Painter",
        f"folder    {folder.resolve()}",
        "dice      3 x d4; usb:2341:0043",
        "outcomes  64 (fresh seeds)",
        "engine    fallback (no model)",
        "render    768x768 (the painting's shape) img2img, 4 steps, strength 0.6, guidance 1",
        "upscale   off: the screen enlarges the picture (smooth)",
        "osc       control 127.0.0.1:9000; targets: sound 10.0.0.5:9001 (bundle)",
        "hours     always open (no [schedule])",
    ]
    assert "valid" in err


def test_summary_of_a_model_show_without_dice(
    write_show: Callable[[str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_show("[variations]\nmodel = 'art'\n[osc]\nlisten = ''\n")
    assert cli.main(["validate", str(folder / "show.toml")]) == 0
    out = capsys.readouterr().out
    assert "dice      2 x d6; no physical dice" in out
    assert f"engine    auto, model {folder.resolve() / 'art'}" in out
    assert "render    512x512 text-to-image" in out
    assert "osc       control off; targets: none" in out


def test_a_model_disk_that_did_not_mount_is_a_warning_and_exit_0(
    write_show: Callable[[str], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    disk = tmp_path / "models-disk" / "sd-turbo"
    folder = write_show(f"[variations]\nengine = 'diffusers'\nmodel = '{disk}'\n")
    assert cli.main(["validate", str(folder)]) == 0
    out, err = capsys.readouterr()
    (warning,) = [line for line in out.splitlines() if line.startswith("warning: ")]
    assert warning.startswith(f"warning: {folder / 'show.toml'}:3: variations.model: '{disk}' ")
    assert "the fallback engine renders until it appears" in warning
    assert err.strip() == "show is valid (1 warning)"


def test_invalid_show_prints_every_issue_and_exits_2(
    write_show: Callable[[str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_show("[dice]\ncuont = 2\n\n[display]\nbackground = 'red'\n")
    assert cli.main(["validate", str(folder)]) == 2
    out, err = capsys.readouterr()
    toml = folder / "show.toml"
    assert out.splitlines() == [
        f"{toml}:2: dice.cuont: unknown key 'cuont'. Did you mean 'count'?",
        f"{toml}:5: display.background: got 'red'; expected a colour as #rrggbb, e.g. '#000000'",
    ]
    assert "2 problems" in err


def test_syntax_error_and_missing_folder_exit_2(
    write_show: Callable[[str], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_show("[dice\ncount = 2\n")
    assert cli.main(["validate", str(folder)]) == 2
    assert capsys.readouterr().out.startswith(f"{folder / 'show.toml'}:1: TOML syntax error: ")
    assert cli.main(["validate", str(tmp_path / "missing")]) == 2
    assert "no such show folder or file" in capsys.readouterr().out


def test_validate_needs_a_show_argument(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["validate"])
    assert info.value.code == 2
    assert "show" in capsys.readouterr().err


DATA = Path(__file__).parent / "data"
REPO_SHOWS = sorted((Path(__file__).parents[2] / "shows").glob("*/show.toml"))


def test_broken_example_show_output_is_exactly_as_documented(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """One show with many common mistakes: the full curator-facing output, line by line."""
    monkeypatch.chdir(DATA)
    assert cli.main(["validate", "broken"]) == 2
    expected = (DATA / "broken" / "expected.txt").read_text(encoding="utf-8")
    expected = expected.replace("{folder}", str((DATA / "broken").resolve()))
    assert capsys.readouterr().out == expected


@pytest.mark.parametrize("toml", REPO_SHOWS, ids=[p.parent.name for p in REPO_SHOWS])
def test_the_shows_in_the_repository_validate(
    toml: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["validate", str(toml.parent)]) == 0, capsys.readouterr().out


def test_a_show_too_big_to_pre_render_is_valid_with_notes_saying_so(
    write_show: Callable[[str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_show(
        """\
        [show]
        name = "huge"
        [dice]
        count = 8
        faces = 100
        [variations]
        width = 64
        height = 64
        [cache]
        memory_mb = 16
        disk_mb = 64
        """
    )
    assert cli.main(["validate", str(folder)]) == 0
    out, err = capsys.readouterr()
    assert "outcomes  10000000000000000 (fixed seeds)" in out
    assert err.splitlines() == [
        "note: 10,000,000,000,000,000 outcomes (8 x d100) are more than the cache holds "
        "(about 5,461 pictures of 64x64): the first 4,914 are pre-rendered; other throws "
        "render when thrown",
        "note: `installation sheet` draws a repeatable sample of 216 of the "
        "10,000,000,000,000,000 outcomes (8 x d100) (--sample sets how many)",
        "show is valid (2 notes)",
    ]


def test_a_show_that_fits_the_cache_has_no_notes(
    write_show: Callable[[str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_show('[show]\nname = "small"\n[dice]\ncount = 3\nfaces = 6\n')
    assert cli.main(["validate", str(folder)]) == 0
    assert capsys.readouterr().err == "show is valid\n"
