"""`installation doctor` on a demo-like show: real SDL (dummy driver), real ptys
answering HELLO through the dice emulator, loopback OSC and PJLink."""

from __future__ import annotations

import os
import pty
import socket
import subprocess
import sys
import threading
import tty
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from installation.dice.emulator import Emulator
from installation.ops import doctor
from installation.ops.doctor import Check, Context, format_table, run_doctor

Cli = Callable[[list[str]], int]
FAST: dict[str, Any] = {"hello_timeout_s": 0.5}


def write_show(folder: Path, extra: str = "", ports: list[str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    port_list = ", ".join(f'"{p}"' for p in ports or [])
    (folder / "show.toml").write_text(
        f'[show]\nname = "doctor-test"\n[dice]\ncount = 2\nports = [{port_list}]\n'
        '[osc]\nlisten = ""\n[[osc.targets]]\nname = "sound"\nhost = "127.0.0.1"\n'
        f"port = 9001\n{extra}"
    )
    return folder


@pytest.fixture(autouse=True)
def dummy_display(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    monkeypatch.setenv("SDL_AUDIODRIVER", "dummy")


@pytest.fixture
def dice() -> Iterator[Emulator]:
    with Emulator(dice=2, firmware="doctor-fw") as emulator:
        yield emulator


@pytest.fixture
def silent_port() -> Iterator[str]:
    """A pty nobody answers on: a board with the wrong firmware."""
    master, slave = pty.openpty()
    tty.setraw(slave)
    yield os.ttyname(slave)
    os.close(master)
    os.close(slave)


def rows_named(rows: list[Check], prefix: str) -> list[Check]:
    return [r for r in rows if r.name.startswith(prefix)]


def test_healthy_show_passes_with_dice_answering_hello(
    tmp_path: Path, dice: Emulator, cli: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    show = write_show(tmp_path / "show", ports=[dice.path])
    rows = run_doctor(show, **FAST)
    by_name = {r.name: r for r in rows}
    assert by_name["show"].level == "PASS"
    (port,) = rows_named(rows, "dice ")
    assert port.level == "PASS", port
    assert "firmware doctor-fw, protocol 1, 2 dice" in port.detail
    assert b"?HELLO" in b"".join(dice.received)
    assert by_name["display"].level == "WARN"  # asked for by name: fine headless only
    assert by_name["display"].detail.startswith("driver dummy, 1 screen(s)")
    assert "nothing reaches a screen" in by_name["display"].detail
    assert (
        by_name["osc sound"].level == "PASS"
        and "127.0.0.1:9001 reachable" in by_name["osc sound"].detail
    )
    assert by_name["gpu"].detail.startswith("not needed")
    assert not [r for r in rows if r.level == "FAIL"]
    assert cli(["doctor", str(show)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["LEVEL", "CHECK", "DETAIL"]
    assert out.rstrip().endswith("0 failed")


def test_silent_missing_and_bad_ports_fail_with_fixes(tmp_path: Path, silent_port: str) -> None:
    ports = [silent_port, str(tmp_path / "ttyACM9")]
    ctx = doctor.load_context(write_show(tmp_path / "s", ports=ports), **FAST)
    rows = [*doctor.check_serial(ctx), doctor._port_row(ctx, "ttyUSB0")]  # type: ignore[misc]
    assert [r.level for r in rows] == ["FAIL", "FAIL", "FAIL"]
    assert "no HELLO answer within 0.5 s at 115200 baud" in rows[0].detail
    assert "firmware" in rows[0].fix
    assert "does not exist (unplugged?)" in rows[1].detail
    assert "expected an absolute path" in rows[2].detail


def test_busy_port_is_a_warning_not_a_failure(tmp_path: Path, dice: Emulator) -> None:
    import serial

    with serial.Serial(dice.path, exclusive=True):  # the running kiosk holds it
        (row,) = rows_named(
            run_doctor(write_show(tmp_path / "s", ports=[dice.path]), **FAST), "dice "
        )
    assert row.level == "WARN" and "stop the kiosk" in row.fix


def test_invalid_show_fails_and_exits_non_zero(
    tmp_path: Path, cli: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    show = write_show(tmp_path / "s", extra="[display]\nfsp = 60\n")
    rows = run_doctor(show, **FAST)
    assert rows[0].level == "FAIL" and "fsp" in rows[0].detail
    assert {r.name: r.level for r in rows}["disk"] == "WARN"  # skipped, said so
    assert cli(["doctor", str(show)]) == 1
    assert "fix: edit show.toml" in capsys.readouterr().out


def test_display_failure_names_the_driver(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDL_VIDEODRIVER", "no-such-driver")
    ctx = Context(folder=tmp_path)
    row = doctor.check_display(ctx)
    assert row.level == "FAIL"
    assert row.detail.startswith("SDL_VIDEODRIVER=no-such-driver: ")
    assert "kmsdrm" in row.fix


def test_screen_index_beyond_the_screens_fails(tmp_path: Path) -> None:
    show = write_show(tmp_path / "s", extra="[display]\ndisplay = 3\n")
    (row,) = rows_named(run_doctor(show, **FAST), "display")
    assert row.level == "FAIL" and "the show wants screen 3" in row.detail


def test_disk_budget_larger_than_free_space_warns(tmp_path: Path) -> None:
    show = write_show(tmp_path / "s", extra="[archive]\nmax_mb = 1000000000\n")
    (row,) = rows_named(run_doctor(show, **FAST), "disk")
    assert row.level == "WARN" and "fills before" in row.detail


def _fake_torch(cuda: bool) -> types.ModuleType:
    torch = types.ModuleType("torch")
    torch.__version__ = "9.9"  # type: ignore[attr-defined]
    props = types.SimpleNamespace(name="Fake GPU", total_memory=2 * 2**30)
    torch.cuda = types.SimpleNamespace(  # type: ignore[attr-defined]
        is_available=lambda: cuda, get_device_properties=lambda i: props
    )
    torch.version = types.SimpleNamespace(cuda="12.4")  # type: ignore[attr-defined]
    return torch


@pytest.mark.parametrize(
    ("device", "cuda", "level", "words"),
    [
        ("auto", False, "WARN", "no CUDA device"),
        ("cuda", False, "FAIL", "no CUDA device"),
        ("cpu", False, "PASS", "engine.device = cpu"),
        ("auto", True, "WARN", "Fake GPU, 2.0 GB VRAM, CUDA 12.4 (under 4 GB)"),
    ],
)
def test_gpu_check_when_the_show_wants_diffusers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, device: str, cuda: bool, level: str, words: str
) -> None:
    monkeypatch.setitem(sys.modules, "torch", _fake_torch(cuda))
    extra = f'[variations]\nmodel = "models/none"\n[engine]\ndevice = "{device}"\n'
    show = write_show(tmp_path / "s", extra=extra)
    (show / "models" / "none").mkdir(parents=True)  # there, but not a model
    ctx = doctor.load_context(show)
    assert ctx.show is not None, ctx.show_problem
    row = doctor.check_gpu(ctx)
    assert (row.level, words in row.detail) == (level, True), row
    model = doctor.check_model(ctx)
    assert model.level == "FAIL" and "not a diffusers model folder" in model.detail


def test_a_model_disk_that_did_not_mount_fails_the_model_row_but_not_the_show(
    tmp_path: Path, cli: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    disk = tmp_path / "models-disk" / "sd"
    show = write_show(tmp_path / "s", extra=f'[variations]\nengine = "auto"\nmodel = "{disk}"\n')
    rows = {r.name: r for r in run_doctor(show, **FAST)}
    assert rows["show"].level == "PASS"  # it runs: with the fallback until the disk mounts
    model = rows["model"]
    assert model.level == "FAIL"
    assert model.detail.startswith(f"{disk} not found: the wall shows the fallback engine")
    assert "mount the model disk" in model.fix and "variations.model" in model.fix
    assert cli(["doctor", str(show)]) == 1
    assert "fix: mount the model disk" in capsys.readouterr().out


def test_groups_of_an_unknown_user_and_of_root(tmp_path: Path) -> None:
    row = doctor.check_groups(Context(folder=tmp_path, user="no-such-user-xyz"))
    assert row.level == "FAIL" and "no such user" in row.detail
    row = doctor.check_groups(Context(folder=tmp_path, user="root"))
    have = set(subprocess.run(["id", "-Gn", "root"], capture_output=True, text=True).stdout.split())
    missing = [g for g in doctor.GROUPS if g not in have]
    if missing:
        assert row.level == "WARN" and f"usermod -aG {','.join(missing)} root" in row.fix
    else:
        assert row.level == "PASS"


def test_pjlink_greeting_from_a_loopback_projector() -> None:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def serve() -> None:
        conn, _ = server.accept()
        conn.sendall(b"PJLINK 1 498e4a67\r")
        conn.close()

    t = threading.Thread(target=serve)
    t.start()
    try:
        row = doctor._pjlink_row("127.0.0.1", port)
    finally:
        t.join(5)
        server.close()
    assert row.level == "PASS" and "with a password" in row.detail
    closed = doctor._pjlink_row("127.0.0.1", port)  # nobody listens any more
    assert closed.level == "FAIL" and "enable PJLink" in closed.fix


def test_projectors_from_a_section_when_the_schema_has_one(tmp_path: Path) -> None:
    show = types.SimpleNamespace(projectors=[types.SimpleNamespace(host="127.0.0.1", port=1)])
    (row,) = doctor.check_projectors(Context(folder=tmp_path, show=show))  # type: ignore[misc]
    assert row.name == "projector 127.0.0.1" and row.level == "FAIL"
    none = doctor.check_projectors(Context(folder=tmp_path))
    assert isinstance(none, Check) and none.detail.startswith("none configured")


def test_a_crashing_check_becomes_a_fail_row(tmp_path: Path) -> None:
    def check_boom(ctx: Context) -> Check:
        raise RuntimeError("kaboom")

    rows = run_doctor(write_show(tmp_path / "s"), checks=[check_boom, doctor.check_python])
    assert rows[0] == Check(
        "boom",
        "FAIL",
        "the check itself failed: RuntimeError: kaboom",
        "report this; the other checks still ran",
    )
    assert rows[1].level == "PASS"


def test_table_layout() -> None:
    text = format_table(
        [
            Check("show", "PASS", "fine", "never shown"),
            Check("dice /dev/x", "FAIL", "line one\nline two", "replug"),
        ]
    )
    assert text.splitlines() == [
        "LEVEL  CHECK        DETAIL",
        "PASS   show         fine",
        "FAIL   dice /dev/x  line one",
        "                    line two",
        "                    fix: replug",
        "1 passed, 0 warnings, 1 failed",
    ]
