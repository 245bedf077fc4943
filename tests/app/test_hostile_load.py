"""Floods the running show must survive: a 10 s throw flood (a real throw after it goes up at
once) and a 2,000-reload storm in a real process under a task limit (systemd's TasksMax).
Loopback only; every loop bounded in count and time."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pythonosc.osc_message import OscMessage

from installation.app import App, RunOptions
from installation.app.build import fresh_counts
from installation.app.inbox import Inbox
from installation.core.dice import Throw
from installation.core.events import ThrowCommitted
from installation.display.fake import FakeKiosk
from installation.ops.soak.inject import osc_message
from installation.osc.control import ControlServer
from installation.show.load import load_show
from installation.show.schema import Show
from installation.worker.fake import FakeWorker
from tests import shows

PIDS = Path("/sys/fs/cgroup/pids")


def write_show(folder: Path, listen: str, seed_mode: str = "fresh") -> Show:
    shows.write_show(
        folder,
        show={"name": "flood"},
        variations={"seed_mode": seed_mode},
        display={"label": False},
        osc={"listen": listen},
    )
    return load_show(folder)


class Running:
    """An App stepping in its own thread at about 60 frames a second."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            with self.lock:
                self.app.step()
            time.sleep(1 / 60)

    def shown_keys(self) -> list[str]:
        with self.lock:
            return [v.key for v in self.app.presenter.presented]


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[Running, int]]:
    show = write_show(tmp_path / "show", listen="")
    inbox = Inbox()
    app = App(
        show,
        RunOptions(),
        kiosk=FakeKiosk(show.display),
        worker=FakeWorker(),
        inbox=inbox,
        counts=fresh_counts(show),
    )
    control = ControlServer("127.0.0.1:0", [], inbox, app.snapshot, dice=2, faces=6)
    app.edges["osc"] = control
    app.start()
    r = Running(app)
    r.thread.start()
    yield r, control.address[1]
    r.stop.set()
    r.thread.join(5)
    app.stop()


def test_a_throw_after_a_10_s_flood_goes_up_within_2_s(running: tuple[Running, int]) -> None:
    r, port = running
    flood = osc_message("/installation/throw", 1, 1)
    sent, end = 0, time.monotonic() + 10.0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        while time.monotonic() < end and sent < 400_000:
            s.sendto(flood, ("127.0.0.1", port))
            sent += 1
    flood_end = time.monotonic()
    # the flood is over once the datagrams the socket still held are handled (the old
    # unbounded inbox applied stale throws for 26 s after a flood like this one)
    control = r.app.edges["osc"]
    assert isinstance(control, ControlServer)
    quiet_since, seen = time.monotonic(), -1
    while time.monotonic() - quiet_since < 0.2 or r.app.inbox.qsize():
        assert time.monotonic() - flood_end < 2.0, "stale throws still applied 2 s on"
        now_seen = control.counters.get("datagrams", 0)
        if now_seen != seen:
            quiet_since, seen = time.monotonic(), now_seen
        time.sleep(0.01)
    # the visitor's throw comes from the dice link's thread, into the same inbox
    r.app.inbox.put(ThrowCommitted(Throw((6, 5), source="dice")))
    thrown = time.monotonic()
    while "6-5" not in r.shown_keys():
        assert time.monotonic() - thrown < 2.0, f"the real throw waited behind {sent} stale ones"
        time.sleep(0.01)
    with r.lock:
        app = r.app
        number = app.presenter.presented[-1].number
        inbox = app.inbox.counters()
    # one throw a frame at most: the count follows the frames, not the flood
    assert number < 60 * 15, (number, sent)
    assert app.inbox.qsize() <= app.inbox.capacity
    assert inbox["throws_superseded"] + inbox["inbox_full"] > 0


def _join_pids_cgroup(group: Path) -> None:  # runs in the child before exec
    (group / "cgroup.procs").write_text(str(os.getpid()))


def test_a_reload_storm_under_a_task_limit_keeps_the_kiosk_up(tmp_path: Path) -> None:
    if os.geteuid() != 0 or not (PIDS / "cgroup.procs").exists():
        pytest.skip("needs root and the cgroup pids controller")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    write_show(tmp_path / "show", listen=f"127.0.0.1:{port}", seed_mode="fixed")
    group = PIDS / f"installation-test-{os.getpid()}"
    group.mkdir()
    (group / "pids.max").write_text("300")
    log = open(tmp_path / "app.log", "wb")  # noqa: SIM115 - closed below
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "installation", "run", str(tmp_path / "show"), "--headless"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        preexec_fn=lambda: _join_pids_cgroup(group),
    )
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.5)

            def pong(deadline_s: float) -> bool:
                end = time.monotonic() + deadline_s
                while time.monotonic() < end and proc.poll() is None:
                    s.sendto(osc_message("/installation/ping", 7), ("127.0.0.1", port))
                    try:
                        data, _ = s.recvfrom(65536)
                    except TimeoutError:
                        continue
                    if OscMessage(data).address == "/installation/pong":
                        return True
                return False

            assert pong(90), "the kiosk never answered"
            reload = osc_message("/installation/reload")
            for i in range(2000):
                s.sendto(reload, ("127.0.0.1", port))
                if i % 100 == 99:
                    time.sleep(0.01)
            peak = 0
            end = time.monotonic() + 3
            while time.monotonic() < end:
                peak = max(peak, int((group / "pids.current").read_text()))
                time.sleep(0.05)
            assert pong(10), "the kiosk stopped answering after the storm"
        assert proc.poll() is None, (tmp_path / "app.log").read_text()[-2000:]
        assert peak < 300
        assert "can't start new thread" not in (tmp_path / "app.log").read_text()
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()
        for _ in range(50):  # the group can go once its last task has exited
            try:
                group.rmdir()
                break
            except OSError:
                time.sleep(0.1)
