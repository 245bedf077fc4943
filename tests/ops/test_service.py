"""Unit rendering, `service install`, and systemd-analyze verify on every unit."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from installation.ops.service import NO_RESTART_EXIT_CODES, example_units, render_units
from tests.conftest import need_tool

REPO = Path(__file__).resolve().parents[2]
# skipped without systemd-analyze, except in CI (INSTALLATION_REQUIRE_TOOLS=1), where it fails
needs_analyze = pytest.mark.usefixtures("analyze")


@pytest.fixture
def analyze() -> str:
    return need_tool("systemd-analyze")


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    """A venv-like folder with an executable bin/installation, as verify requires."""
    exe = tmp_path / "venv" / "bin" / "installation"
    exe.parent.mkdir(parents=True)
    exe.write_text("#!/bin/sh\nexit 0\n")
    exe.chmod(0o755)
    return tmp_path / "venv"


@pytest.fixture
def show(tmp_path: Path) -> Path:
    folder = tmp_path / "my show"  # a space, to prove the quoting
    folder.mkdir()
    (folder / "show.toml").write_text('[show]\nname = "t"\n')
    return folder


def verify(unit: Path, *, user: bool, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if user:  # the user manager needs a runtime dir, even for verify
        runtime = tmp_path / "runtime"
        runtime.mkdir(mode=0o700, exist_ok=True)
        env["XDG_RUNTIME_DIR"] = str(runtime)
    cmd = [need_tool("systemd-analyze"), *(["--user"] if user else []), "verify", str(unit)]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)


def test_repo_files_are_the_rendered_examples() -> None:
    for name, text in example_units().items():
        path = REPO / "systemd" / name
        assert path.read_text() == text, (
            f"{path} differs from installation.ops.service; regenerate with: python -c "
            '"from installation.ops.service import example_units; from pathlib import Path; '
            "[Path('systemd', n).write_text(t) for n, t in example_units().items()]\""
        )


def test_console_units_have_the_paths_and_policy(show: Path, venv: Path) -> None:
    units = render_units(show, user="kiosk", venv=venv, mode="console")
    unit = units["/etc/systemd/system/installation.service"]
    assert f'ExecStart={venv}/bin/installation run "{show}"' in unit
    assert f"WorkingDirectory={show}\n" in unit
    for line in [
        "Type=notify",
        "NotifyAccess=main",
        "WatchdogSec=30",
        "Restart=on-failure",
        "RestartPreventExitStatus=2 5",
        "User=kiosk",
        "SupplementaryGroups=video render input dialout",
        "Conflicts=getty@tty1.service",
        "Environment=SDL_VIDEODRIVER=kmsdrm",
        "Environment=HF_HUB_OFFLINE=1",
        "#StartLimitAction=reboot",
    ]:
        assert f"\n{line}\n" in unit, line
    unit_section = unit.split("[Service]")[0]
    assert "StartLimitIntervalSec=600" in unit_section and "StartLimitBurst=10" in unit_section
    assert "Storage=persistent" in units["/etc/systemd/journald.conf.d/50-installation.conf"]
    assert len(units) == 2  # the hardware watchdog only when asked


def test_specifiers_and_dollars_are_escaped(tmp_path: Path, venv: Path) -> None:
    odd = tmp_path / "100%$HOME"
    unit = render_units(odd, user="kiosk", venv=venv, mode="console")
    text = unit["/etc/systemd/system/installation.service"]
    assert f"run {tmp_path}/100%%$$HOME\n" in text
    assert f"WorkingDirectory={tmp_path}/100%%$HOME\n" in text


def test_desktop_unit_goes_to_the_users_config(show: Path, venv: Path, tmp_path: Path) -> None:
    units = render_units(show, user="gallery", venv=venv, mode="desktop", home=tmp_path / "home")
    ((dest, text),) = units.items()
    assert dest == f"{tmp_path}/home/.config/systemd/user/installation.service"
    assert "WantedBy=graphical-session.target" in text
    assert "Conflicts=" not in text and "User=" not in text and "kmsdrm" not in text


def test_exit_codes_a_restart_cannot_fix_stop_the_restarts(show: Path, venv: Path) -> None:
    """An invalid show (2) or a kiosk already running on the storage (5) would only loop
    into start-limit-hit; every other failure is restarted (Restart=on-failure)."""
    from installation.app import run

    assert NO_RESTART_EXIT_CODES == (run.EXIT_SHOW, 5)
    restarted = (run.EXIT_FRAMES, run.EXIT_DISPLAY, run.EXIT_START)
    assert not set(restarted) & set(NO_RESTART_EXIT_CODES)
    console = render_units(show, user="kiosk", venv=venv, mode="console")
    desktop = render_units(show, user="kiosk", venv=venv, mode="desktop", home=show)
    for text in [*console.values(), *desktop.values()]:
        if "[Service]" not in text:
            continue  # the journald drop-in
        service = text.split("[Service]")[1].split("\n[")[0]
        assert "\nRestartPreventExitStatus=2 5\n" in service
        assert "\nRestart=on-failure\n" in service


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "kiosk"}, "mode must be one of console, desktop, got 'kiosk'"),
        ({"user": "Bad User"}, "user 'Bad User' is not a valid Linux user name"),
        ({"venv": Path("venv")}, "venv must be an absolute path, got 'venv'"),
    ],
)
def test_bad_arguments_are_named(kwargs: dict[str, object], message: str, show: Path) -> None:
    args: dict[str, object] = {"user": "kiosk", "venv": Path("/opt/v"), "mode": "console", **kwargs}
    with pytest.raises(ValueError, match=message):
        render_units(show, **args)  # type: ignore[arg-type]


@needs_analyze
@pytest.mark.parametrize("hardware_watchdog", [False, True])
def test_console_unit_passes_systemd_analyze_verify(
    show: Path, venv: Path, tmp_path: Path, hardware_watchdog: bool
) -> None:
    units = render_units(
        show, user="root", venv=venv, mode="console", hardware_watchdog=hardware_watchdog
    )
    unit = tmp_path / "installation.service"
    unit.write_text(units["/etc/systemd/system/installation.service"])
    result = verify(unit, user=False, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    # verify only warns (exit 0) on unknown keys, so the output must be empty too
    assert result.stdout + result.stderr == ""


@needs_analyze
def test_desktop_unit_passes_systemd_analyze_verify(show: Path, venv: Path, tmp_path: Path) -> None:
    units = render_units(show, user="gallery", venv=venv, mode="desktop", home=tmp_path)
    unit = tmp_path / "installation.service"
    unit.write_text(next(iter(units.values())))
    result = verify(unit, user=True, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout + result.stderr == ""


@needs_analyze
def test_verify_would_catch_a_bad_key(tmp_path: Path, venv: Path, show: Path) -> None:
    """The check above can fail: systemd 252 does not know RestartSteps (254+)."""
    text = render_units(show, user="root", venv=venv, mode="console")[
        "/etc/systemd/system/installation.service"
    ].replace("RestartSec=5", "RestartSec=5\nRestartSteps=3")
    unit = tmp_path / "installation.service"
    unit.write_text(text)
    result = verify(unit, user=False, tmp_path=tmp_path)
    assert "Unknown key 'RestartSteps'" in result.stderr


@pytest.mark.parametrize(
    ("conf", "binary"),
    [
        ("journald.conf.d/50-installation.conf", "/lib/systemd/systemd-journald"),
        ("system.conf.d/50-installation-watchdog.conf", "/lib/systemd/systemd"),
    ],
)
def test_drop_in_keys_are_known_to_this_systemd(conf: str, binary: str) -> None:
    """verify does not read journald/system.conf; their key tables are in the binaries."""
    if not Path(binary).exists():
        pytest.skip(f"{binary} not present")
    known = Path(binary).read_bytes()
    keys = [
        line.split("=", 1)[0]
        for line in example_units()[conf].splitlines()
        if "=" in line and not line.startswith("#")
    ]
    assert keys
    for key in keys:
        assert key.encode() in known, f"{key} unknown to {binary}"


def test_install_dry_run_prints_and_writes_nothing(
    cli: Callable[[list[str]], int],
    show: Path,
    venv: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = tmp_path / "root"
    code = cli(
        ["service", "install", str(show), "--venv", str(venv), "--dry-run", "--root", str(root)]
    )
    out = capsys.readouterr()
    assert code == 0
    assert "# ---- /etc/systemd/system/installation.service" in out.out
    assert f'run "{show}"' in out.out
    assert "sudo systemctl enable --now installation.service" in out.out
    assert out.err == ""
    assert not root.exists()


def test_install_writes_under_root(
    cli: Callable[[list[str]], int],
    show: Path,
    venv: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = tmp_path / "root"
    code = cli(
        [
            "service",
            "install",
            str(show),
            "--venv",
            str(venv),
            "--root",
            str(root),
            "--hardware-watchdog",
            "--user",
            "kiosk",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    unit = root / "etc/systemd/system/installation.service"
    assert "User=kiosk" in unit.read_text()
    assert (root / "etc/systemd/system.conf.d/50-installation-watchdog.conf").is_file()
    assert (root / "etc/systemd/journald.conf.d/50-installation.conf").is_file()
    assert "daemon-reexec" in out and str(unit) in out


def test_install_desktop_mode_under_root(
    cli: Callable[[list[str]], int],
    show: Path,
    venv: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = tmp_path / "root"
    code = cli(
        [
            "service",
            "install",
            str(show / "show.toml"),
            "--venv",
            str(venv),
            "--root",
            str(root),
            "--mode",
            "desktop",
            "--user",
            "nosuchuser",
        ]
    )
    assert code == 0
    assert (root / "home/nosuchuser/.config/systemd/user/installation.service").is_file()
    assert "systemctl --user enable --now installation.service" in capsys.readouterr().out


def test_install_warns_about_a_missing_executable_and_show(
    cli: Callable[[list[str]], int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli(
        [
            "service",
            "install",
            str(tmp_path / "nowhere"),
            "--venv",
            str(tmp_path / "v"),
            "--dry-run",
        ]
    )
    err = capsys.readouterr().err
    assert code == 0
    assert "has no show.toml" in err and "bin/installation is missing" in err


def test_install_rejects_a_bad_user(
    cli: Callable[[list[str]], int], show: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["service", "install", str(show), "--user", "Root!", "--dry-run"]) == 2
    assert "not a valid Linux user name" in capsys.readouterr().err
