"""[web] in the show file, the users file and its CLI, curation.toml, and the two overrides."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from installation.app import App, RunOptions
from installation.core import events as ev
from installation.display.fake import FakeKiosk
from installation.errors import ShowError
from installation.show.load import load_show
from installation.show.web_config import parse_listen
from installation.web.users import load_users, verify_password
from installation.worker.fake import FakeWorker
from tests.web.helpers import Client, Running, make_show


def write(folder: Path, web: str, extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "show.toml").write_text(
        f'# a comment\n[show]\nname = "s"\n[osc]\nlisten = ""\n[web]\n{web}\n{extra}', "utf-8"
    )
    return folder


def cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.run(
        [sys.executable, "-m", "installation", *args],
        input=stdin, capture_output=True, text=True, timeout=60, env=env, check=False,
    )  # fmt: skip


def test_listen_forms() -> None:
    assert parse_listen(":8080") == ("127.0.0.1", 8080)
    assert parse_listen("8080") == ("127.0.0.1", 8080)
    assert parse_listen("0.0.0.0:80") == ("0.0.0.0", 80)
    for bad, needle in (("host:80", "numeric IPv4"), (":99999", "0..65535"), ("x", "port")):
        with pytest.raises(ValueError, match=needle):
            parse_listen(bad)


def test_listening_beyond_loopback_needs_a_user(tmp_path: Path) -> None:
    folder = write(tmp_path / "s", 'listen = "0.0.0.0:8080"')
    with pytest.raises(ShowError) as e:
        load_show(folder)
    assert "web.listen" in str(e.value) and "web user add" in str(e.value)
    assert load_show(write(tmp_path / "l", 'listen = ":8080"')).web.listen == ":8080"
    with pytest.raises(ShowError, match="numeric IPv4"):
        load_show(write(tmp_path / "b", 'listen = "gallery.local:8080"'))
    # the CLI adds a user even while validate refuses the show for want of one
    done = cli("web", "user", "add", str(folder), "ada", "--role", "technician",
               "--password-stdin", stdin="correct horse\n")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert load_show(folder).web.listen == "0.0.0.0:8080"


def test_user_cli_add_list_remove(tmp_path: Path) -> None:
    folder = write(tmp_path / "s", 'listen = ":0"')
    assert cli("web", "user", "add", str(folder), "bo", "--role", "curator",
               "--password-stdin", stdin="bo-password\n").returncode == 0  # fmt: skip
    users_file = folder / "var" / "web-users.json"
    assert oct(users_file.stat().st_mode & 0o777) == "0o600"
    text = users_file.read_text()
    assert "bo-password" not in text and "scrypt$" in text
    assert verify_password("bo-password", load_users(folder / "var")["bo"].hash)
    assert not verify_password("bo-passwore", load_users(folder / "var")["bo"].hash)
    listed = cli("web", "user", "list", str(folder))
    assert listed.returncode == 0 and "bo" in listed.stdout and "curator" in listed.stdout
    bad = cli("web", "user", "add", str(folder), "x", "--role", "curator", "--password-stdin",
              stdin="short\n")  # fmt: skip
    assert bad.returncode == 2 and "8 to 1024 characters" in bad.stderr
    bad = cli("web", "user", "add", str(folder), "../x", "--role", "viewer", "--password-stdin",
              stdin="long enough\n")  # fmt: skip
    assert bad.returncode == 2 and "user name" in bad.stderr
    assert cli("web", "user", "remove", str(folder), "bo").returncode == 0
    gone = cli("web", "user", "remove", str(folder), "bo")
    assert gone.returncode == 2 and "no user 'bo'" in gone.stderr
    assert json.loads(users_file.read_text())["users"] == {}


def test_curation_file_adds_to_safety_and_reports_bad_entries(tmp_path: Path) -> None:
    folder = write(tmp_path / "s", "", '[safety]\napproved = ["1-1"]\n[dice]\ncount = 2\n')
    (folder / "curation.toml").write_text('approved = ["3-5", "3-5@12"]\nblocked_seeds = [7]\n')
    show = load_show(folder)
    assert show.safety.approved == ["1-1", "3-5", "3-5@12"]
    assert show.safety.blocked_seeds == [7]
    (folder / "curation.toml").write_text('approved = ["3-5",\n  "9-9"]\n')
    with pytest.raises(ShowError) as e:
        load_show(folder)
    issue = e.value.issues[0]
    assert issue.file.endswith("curation.toml") and issue.line == 2 and "9" in issue.message


def test_outcome_approval_from_the_console_survives_comments_and_applies(
    running: Running,
) -> None:
    toml_before = (running.show.folder / "show.toml").read_text()
    c = Client(running.port)
    assert c.sign_in("curator") == 303
    status, headers, _ = c.post("/outcomes/3-5/approve")
    assert status == 303 and "approve" in headers["location"]
    assert c.post("/outcomes/3-5/block-seed", {"seed": "1234"})[0] == 303
    status, _, body = c.post("/outcomes/3-5/block-seed", {"seed": "-1"})
    assert status == 400 and b"seed" in body
    status, _, body = c.post("/outcomes/3-9/approve")
    assert status == 400 and b"faces run from 1 to 6" in body
    assert (running.show.folder / "show.toml").read_text() == toml_before  # comments kept
    show = load_show(running.show.folder)
    assert "3-5" in show.safety.approved and 1234 in show.safety.blocked_seeds
    page = c.request("GET", "/outcomes")[2].decode()
    assert 'id="o-3-5"' in page and "approved" in page
    # the console asked for a reload: the app without a watcher counts it as a fault
    running.wait(lambda: running.status()["faults"].get("reload"), what="the reload request")


def test_hours_and_projector_overrides_reach_the_app(tmp_path: Path) -> None:
    from installation.ops.pjlink import ProjectorController

    show = make_show(tmp_path)
    kiosk = FakeKiosk(show.display)
    app = App(show, RunOptions(), kiosk=kiosk, worker=FakeWorker())
    projectors = ProjectorController([], app.hours.schedule)
    app.edges["projectors"] = projectors
    app.start()
    try:
        app.inbox.put(ev.HoursOverride("closed"))
        app.inbox.put(ev.ProjectorPower(False))
        app.step()
        assert app.state_name() == "standby" and projectors.override is False
        hours = app.sections()["hours"]
        assert hours["phase"] == "closed" and hours["override"]["phase"] == "closed"
        app.inbox.put(ev.HoursOverride(None))
        app.inbox.put(ev.ProjectorPower(None))
        app.step()
        assert app.state_name() == "attract" and projectors.override is None
    finally:
        app.stop()
