"""`installation status`: finds the file from the show, says how old it is."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from installation.ops.status import StatusBoard

Cli = Callable[[list[str]], int]


@pytest.fixture
def show(tmp_path: Path) -> Path:
    folder = tmp_path / "show"
    folder.mkdir()
    (folder / "show.toml").write_text('[show]\nname = "demo"\n[storage]\ndir = "state"\n')
    return folder


def write_status(path: Path, age_s: float) -> None:
    board = StatusBoard(show="demo", wall=lambda: time.time() - age_s)
    board.set_state("presenting")
    board.write(path)


def test_fresh_status_from_the_show_folder(
    cli: Cli, show: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_status(show / "state" / "status.json", age_s=1)
    assert cli(["status", str(show)]) == 0
    out = capsys.readouterr().out
    assert "the kiosk is running" in out and "state     presenting" in out


def test_stale_status_warns_and_exits_3(
    cli: Cli, show: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_status(show / "state" / "status.json", age_s=45)
    assert cli(["status", str(show / "show.toml")]) == 3
    assert "WARNING: written 0m 45s ago" in capsys.readouterr().out


def test_storage_dir_found_even_when_the_show_has_a_toml_error(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "show.toml").write_text("[show\nname=")  # broken mid-edit: default var/
    write_status(tmp_path / "var" / "status.json", age_s=0)
    assert cli(["status", str(tmp_path)]) == 0


def test_file_option_and_json_output(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.json"
    write_status(path, age_s=0)
    assert cli(["status", "--file", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["state"] == "presenting"


def test_missing_and_garbage_files_are_explained(
    cli: Cli, show: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["status", str(show)]) == 4
    assert "no status file at" in capsys.readouterr().err
    bad = show / "state" / "status.json"
    bad.parent.mkdir()
    bad.write_text("\x00\x01")
    assert cli(["status", str(show)]) == 4
    assert "not a status file" in capsys.readouterr().err
    bad.write_bytes(b"\xff\xfe not utf-8")
    assert cli(["status", "--file", str(bad)]) == 4


def test_needs_at_most_one_source(
    cli: Cli, show: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INSTALLATION_SHOW", raising=False)
    assert cli(["status", "--root", str(show)]) == 2  # no SHOW and no installed unit
    assert "name one: installation status SHOW" in capsys.readouterr().err
    assert cli(["status", str(show), "--file", "x"]) == 2
    assert "give a SHOW folder or --file PATH, not both" in capsys.readouterr().err


def test_works_through_the_real_cli_main(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from installation import cli

    mods = list(dict.fromkeys([*cli.COMMAND_MODULES, "installation.ops.commands"]))
    monkeypatch.setattr(cli, "COMMAND_MODULES", mods)
    path = tmp_path / "status.json"
    write_status(path, age_s=0)
    assert cli.main(["status", "--file", str(path)]) == 0
    assert "state     presenting" in capsys.readouterr().out
