"""The app wired end to end: fakes for the fast rules, real parts for the real path."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.udp_client import SimpleUDPClient

from installation.app import App, RunOptions
from installation.app.build import fresh_counts
from installation.app.housekeeper import Housekeeper
from installation.app.inbox import Inbox
from installation.app.reloader import Reloader, WorkerReady
from installation.app.room import Room
from installation.core import events as ev
from installation.core.dice import Throw
from installation.display.fake import FakeKiosk
from installation.engines.engine import EngineSpec
from installation.show.load import load_show
from installation.show.schema import Show
from installation.storage.journal import Saved
from installation.worker.fake import FakeWorker
from tests import shows
from tests.waiting import wait_until
from tests.worker import engines_for_tests as engines


def make_show(tmp_path: Path, extra: str = "", *, seed_mode: str = "fixed") -> Show:
    folder = shows.write_show(
        tmp_path / "show",
        extra,
        variations={"seed_mode": seed_mode},
        display={"fit": "cover", "label": False},
    )
    return load_show(folder)


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def fake_app(
    show: Show, clock: Clock | None = None, **kw: Any
) -> tuple[App, FakeKiosk, FakeWorker]:
    clock = clock or Clock()
    kiosk = FakeKiosk(show.display, clock=clock)
    worker = FakeWorker(clock=clock)
    app = App(
        show, RunOptions(**kw), kiosk=kiosk, worker=worker, clock=clock, counts=fresh_counts(show)
    )
    app.start()
    return app, kiosk, worker


def test_throw_is_presented_and_labelled_by_the_director(tmp_path: Path) -> None:
    show = make_show(tmp_path)
    app, kiosk, _worker = fake_app(show)
    app.inbox.put(ev.ThrowCommitted(Throw((3, 5))))
    app.step()
    app.step()
    assert [v.key for v in app.presenter.presented] == ["3-5"]
    assert len(kiosk.presents) == 1
    assert kiosk.state == "presenting"
    assert app.snapshot()["last_variation"]["key"] == "3-5"


class Archive:
    def __init__(self) -> None:
        self.saved: list[tuple[str, str, dict[str, str]]] = []

    def save(
        self, image: Any, variation: Any, *, engine: str, describe: dict[str, str], source: Any
    ) -> Saved:
        self.saved.append((variation.key, engine, describe))
        saved = Saved(True)
        saved.settle()  # on disk at once
        return saved

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def stats(self) -> dict[str, Any]:
        return {"saved": len(self.saved)}


def test_the_archive_records_how_each_shown_picture_was_made(tmp_path: Path) -> None:
    show = make_show(tmp_path)
    clock = Clock()
    archive = Archive()
    worker = FakeWorker(clock=clock, ready_after_s=5.0)  # a model load takes 5 s
    app = App(
        show,
        RunOptions(),
        kiosk=FakeKiosk(show.display, clock=clock),
        worker=worker,
        archive=archive,
        clock=clock,
    )
    app.start()
    clock.t += 6
    app.step()
    app.inbox.put(ev.ThrowCommitted(Throw((1, 4))))
    app.step()
    app.step()
    worker.crash()  # the next throw is rendered by the parent's fallback meanwhile
    app.inbox.put(ev.ThrowCommitted(Throw((2, 4))))
    app.step()
    app.step()
    assert archive.saved[0] == ("1-4", "fake", {"engine": "fake"})
    key, engine, describe = archive.saved[1]
    assert (key, engine, describe["engine"]) == ("2-4", "fallback", "fallback")


def test_bad_events_and_bad_throws_are_counted_not_fatal(tmp_path: Path) -> None:
    app, kiosk, _ = fake_app(make_show(tmp_path))
    app.inbox.put(object())
    app.inbox.put(ev.ThrowCommitted(Throw((3, 9))))
    app.step()
    assert app.counters == {"unknown-event": 1, "throw-ignored": 1}
    assert kiosk.presents == []


def test_fresh_count_survives_a_restart(tmp_path: Path) -> None:
    show = make_show(tmp_path, seed_mode="fresh")
    app, _, _ = fake_app(show)
    for n in range(1, 4):
        app.inbox.put(ev.ThrowCommitted(Throw((1, 1))))
        run_until(
            app, lambda n=n: len(app.presenter.presented) == n
        )  # shown once its count is on disk
    first_run = [v.seed for v in app.presenter.presented]
    assert len(set(first_run)) == 3
    app.stop()
    again, _, _ = fake_app(load_show(show.folder))
    again.inbox.put(ev.ThrowCommitted(Throw((1, 1))))
    run_until(again, lambda: again.presenter.presented)
    assert [v.number for v in again.presenter.presented] == [4]
    assert again.presenter.presented[0].seed not in first_run
    assert again.presenter.presented[0].repeat == 4


def test_unsafe_image_is_rerolled_never_shown(tmp_path: Path) -> None:
    app, kiosk, worker = fake_app(make_show(tmp_path))
    worker.fail_next("unsafe", "flagged")
    app.inbox.put(ev.ThrowCommitted(Throw((2, 2))))
    for _ in range(4):
        app.step()
    assert [v.reroll for v in app.presenter.presented] == [1]
    assert app.counters["render-unsafe"] == 1
    assert len(kiosk.presents) == 1


def test_blocked_seed_is_rerolled(tmp_path: Path) -> None:
    from installation.core.variations import derive_variation
    from installation.show.schema import variation_rule

    probe = make_show(tmp_path)
    blocked = derive_variation(variation_rule(probe), Throw((4, 1))).seed
    show = make_show(tmp_path, f"[safety]\nblocked_seeds = [{blocked}]\n")
    app, _, _ = fake_app(show)
    app.inbox.put(ev.ThrowCommitted(Throw((4, 1))))
    app.step()
    app.step()
    assert [v.seed for v in app.presenter.presented] != [blocked]
    assert app.presenter.presented[0].reroll == 1


def test_idle_returns_to_attract_and_blackout_holds(tmp_path: Path) -> None:
    clock = Clock()
    app, kiosk, _ = fake_app(make_show(tmp_path), clock)
    app.inbox.put(ev.RandomThrow("test"))
    app.step()
    app.step()
    clock.t += 3600
    app.step()
    assert kiosk.state == "attract"
    app.inbox.put(ev.Blackout())
    app.inbox.put(ev.RandomThrow("test"))
    app.step()
    app.step()
    assert kiosk.state == "blackout"
    app.inbox.put(ev.Resume())
    app.step()
    assert kiosk.state == "presenting"


def test_exit_after_stops_the_loop(tmp_path: Path) -> None:
    clock = Clock()
    app, _, _ = fake_app(make_show(tmp_path), clock, exit_after=5.0)
    app.step()
    assert app.running
    clock.t += 5
    app.step()
    assert not app.running


# -- real parts: pygame under SDL's dummy driver, a real worker process, OSC on loopback ----


def run_until(app: App, done: Any, timeout: float = 20.0) -> None:
    """Step the app's frame loop until `done()`."""
    wait_until(done, timeout, "the app to get there", step=app.step)


@pytest.fixture
def real_app(tmp_path: Path):  # type: ignore[no-untyped-def]
    from installation.display.kiosk import Kiosk
    from installation.osc.control import ControlServer
    from installation.worker.client import WorkerClient

    show = make_show(tmp_path)
    inbox = Inbox()
    kiosk = Kiosk(show.display, dice=2, faces=6)
    worker = WorkerClient(EngineSpec(factory=f"{engines.__name__}:behaving"), hang_timeout_s=30)
    from installation.ops.notify import Notifier
    from installation.ops.status import StatusBoard

    sock_path = str(tmp_path / "notify.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(sock_path)
    listener.settimeout(0.01)
    board, notifier = StatusBoard(show="t"), Notifier(sock_path)
    app = App(
        show,
        RunOptions(),
        kiosk=kiosk,
        worker=worker,
        inbox=inbox,
        status=board,
        notifier=notifier,
        housekeeper=Housekeeper(
            board,
            notifier,
            show.storage_dir / "status.json",
            worker_grace_s=90,
            started_at=time.monotonic(),
        ),
    )
    app.notify_listener = listener  # type: ignore[attr-defined]
    control = ControlServer("127.0.0.1:0", [], inbox, app.snapshot, dice=2, faces=6)
    app.edges["osc"] = control
    app.start()
    yield app, kiosk, control
    app.stop()
    listener.close()


def notifications(app: App) -> list[str]:
    out = []
    while True:
        try:
            out.append(app.notify_listener.recv(4096).decode())  # type: ignore[attr-defined]
        except TimeoutError:
            return out


def test_ready_goes_to_systemd_once_the_engine_is_up_and_status_is_written(
    real_app: Any,
) -> None:
    app, _, _ = real_app
    run_until(app, lambda: app.worker.engine_name == "test")
    app.step()
    messages = notifications(app)
    assert any(m.startswith("READY=1") for m in messages), messages
    app.housekeeper.stop()
    status = json.loads((app.show.storage_dir / "status.json").read_text())
    assert status["engine"] == "test"
    assert status["state"] == "stopped"  # a clean stop says so at once
    assert status["sections"]["worker"]["alive"] is True


def test_real_kiosk_shows_the_engines_pixels_and_frames_run_while_it_works(real_app: Any) -> None:
    app, kiosk, _ = real_app
    run_until(app, lambda: app.worker.engine_name == "test")
    app.step()
    # "slow" makes the test engine take 0.4 s per image in the child process
    app.rule = app.director.rule = type(app.rule)(**{**app.rule.__dict__, "prompt": "slow"})
    frames_before = kiosk.stats()["frames"]
    app.inbox.put(ev.ThrowCommitted(Throw((6, 2))))
    run_until(app, lambda: app.presenter.presented)
    frames_during = kiosk.stats()["frames"] - frames_before
    assert frames_during >= 5, (
        f"the frame loop stalled: {frames_during} frames during a 0.4 s render"
    )
    assert kiosk.wait_ready()  # the slide is painted off the frame thread
    app.step()
    expected = engines.colour_of(app.presenter.presented[0])
    pixels = kiosk.read_pixels()
    h, w = pixels.shape[:2]
    assert tuple(int(c) for c in pixels[h // 2, w // 2]) == expected
    assert np.all(pixels == np.array(expected, np.uint8))  # cover fit, no label: all of it


def test_osc_throw_and_status_over_loopback(real_app: Any) -> None:
    app, _, control = real_app
    host, port = control.address
    client = SimpleUDPClient(host, port)
    client.send_message("/installation/throw", [4, 4])
    run_until(app, lambda: app.presenter.presented)
    assert app.presenter.presented[-1].key == "4-4"
    # status: the reply comes back to the sender's socket (answered by the control thread)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(10)
        s.sendto(OscMessageBuilder("/installation/status").build().dgram, (host, port))
        data, _ = s.recvfrom(65536)
    msg = OscMessage(data)
    assert msg.address == "/installation/status"
    status = json.loads(msg.params[0])
    assert status["last_variation"]["key"] == "4-4"
    assert status["state"] == "presenting"


def test_opening_hours_follow_the_wall_clock_after_a_restart(tmp_path: Path) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    show = make_show(
        tmp_path, '[schedule]\ntimezone = "Europe/Berlin"\nwednesday = "10:00-18:00"\n'
    )
    berlin = ZoneInfo("Europe/Berlin")
    wall_t = [datetime(2026, 11, 25, 8, 0, tzinfo=berlin).timestamp()]  # a Wednesday, 08:00
    clock = Clock()
    kiosk = FakeKiosk(show.display, clock=clock)
    app = App(
        show,
        RunOptions(),
        kiosk=kiosk,
        worker=FakeWorker(clock=clock),
        clock=clock,
        wall=lambda: wall_t[0],
    )
    app.start()
    assert kiosk.state == "standby"
    app.inbox.put(ev.ThrowCommitted(Throw((1, 1))))
    app.step()
    assert app.presenter.presented == [] and app.counters["throw-ignored"] == 1
    # a power cut until 14:00: the restarted app is simply open
    wall_t[0] = datetime(2026, 11, 25, 14, 0, tzinfo=berlin).timestamp()
    clock.t += 2
    app.step()
    assert kiosk.state == "attract"
    app.inbox.put(ev.ThrowCommitted(Throw((1, 1))))
    app.step()
    app.step()
    assert [v.key for v in app.presenter.presented] == ["1-1"]
    wall_t[0] = datetime(2026, 11, 25, 18, 0, tzinfo=berlin).timestamp()
    clock.t += 2
    app.step()
    assert kiosk.state == "standby"


def test_rehearsal_works_when_the_gallery_is_closed_and_says_so(tmp_path: Path) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    show = make_show(
        tmp_path, '[schedule]\ntimezone = "Europe/Berlin"\nwednesday = "10:00-18:00"\n'
    )
    night = datetime(2026, 11, 25, 22, 0, tzinfo=ZoneInfo("Europe/Berlin")).timestamp()
    for rehearsal in (False, True):
        clock = Clock()
        kiosk = FakeKiosk(show.display, clock=clock)
        app = App(
            show,
            RunOptions(rehearsal=rehearsal),
            kiosk=kiosk,
            worker=FakeWorker(clock=clock),
            clock=clock,
            wall=lambda: night,
        )
        app.start()
        clock.t += 2
        app.step()
        app.inbox.put(ev.ThrowCommitted(Throw((4, 2))))
        app.step()
        app.step()
        shown = [v.key for v in app.presenter.presented]
        if rehearsal:
            assert shown == ["4-2"] and kiosk.banner == "closed - rehearsal"
            assert app.sections()["hours"]["scheduled"] == "closed"
        else:
            assert shown == [] and kiosk.state == "standby" and kiosk.banner is None
        app.stop()


def test_an_override_opens_a_closed_show_and_the_status_says_until_when(tmp_path: Path) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    show = make_show(
        tmp_path, '[schedule]\ntimezone = "Europe/Berlin"\nwednesday = "10:00-18:00"\n'
    )
    night = datetime(2026, 11, 25, 22, 0, tzinfo=ZoneInfo("Europe/Berlin")).timestamp()
    clock = Clock()
    kiosk = FakeKiosk(show.display, clock=clock)
    app = App(
        show,
        RunOptions(),
        kiosk=kiosk,
        worker=FakeWorker(clock=clock),
        clock=clock,
        wall=lambda: night,
    )
    app.start()
    assert kiosk.state == "standby"
    app.inbox.put(ev.HoursOverride("open", 1800.0, "osc"))
    app.step()
    assert kiosk.state == "attract"
    hours = app.sections()["hours"]
    assert hours["override"]["phase"] == "open"
    assert hours["override"]["until"] == "2026-11-25T21:30:00+00:00"
    app.stop()


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_leader_and_follower_apps_flip_together_with_the_shared_seed(tmp_path: Path) -> None:
    from installation.osc.cluster import ClusterLink

    lp, fp = free_udp_port(), free_udp_port()
    apps = []
    for role, port, peer, prompt in (
        ("leader", lp, fp, "flat"),
        ("follower", fp, lp, "the follower's own prompt"),
    ):
        folder = tmp_path / role
        folder.mkdir()
        show = make_show(
            folder,
            f'[cluster]\nrole = "{role}"\nnode = "{role}"\nlisten = "127.0.0.1:{port}"\n'
            f'peers = ["127.0.0.1:{peer}"]\nlookahead_ms = 200\nready_timeout_s = 5\n',
        )
        show = show.model_copy(
            update={"variations": show.variations.model_copy(update={"prompt": prompt})}
        )
        inbox = Inbox()
        link = ClusterLink.from_section(show.cluster, inbox)
        kiosk = FakeKiosk(show.display)
        app = App(
            show,
            RunOptions(),
            kiosk=kiosk,
            worker=FakeWorker(),
            inbox=inbox,
            edges={"cluster": link},
            room=Room(link),
        )
        app.start()
        apps.append((app, kiosk))
    try:
        (leader, _), (follower, _) = apps
        deadline = time.monotonic() + 10
        # wait until the leader knows its follower (ALIVE), then throw
        while not leader.room.link.status().get("followers"):
            assert time.monotonic() < deadline, leader.room.link.status()
            leader.step()
            follower.step()
        leader.inbox.put(ev.ThrowCommitted(Throw((2, 3))))
        thrown_at = time.time()
        shown_at: dict[str, float] = {}
        while len(shown_at) < 2:
            assert time.monotonic() < deadline, (leader.room, follower.room)
            for name, (app, kiosk) in zip(("leader", "follower"), apps, strict=True):
                app.step()
                if kiosk.presents and name not in shown_at:
                    shown_at[name] = time.time()
        lv, fv = leader.presenter.presented[-1], follower.presenter.presented[-1]
        assert (fv.seed, fv.number, fv.faces) == (lv.seed, lv.number, lv.faces)
        assert fv.prompt == "the follower's own prompt" != lv.prompt
        assert abs(shown_at["leader"] - shown_at["follower"]) < 0.1
        # the fake engine answers at once: only the held flip explains the lookahead wait
        assert shown_at["leader"] - thrown_at >= 0.15
    finally:
        for app, _ in apps:
            app.stop()


def test_rehearsal_reload_swaps_a_valid_save_and_keeps_the_show_on_a_bad_one(
    tmp_path: Path,
) -> None:
    from installation.core.events import ShowReloaded
    from installation.show.watch import ShowWatcher

    show = make_show(tmp_path)
    toml = show.source
    inbox = Inbox()

    def changed(result: Any) -> None:
        inbox.put(ShowReloaded(result, watcher.last_change if isinstance(result, Show) else None))

    watcher = ShowWatcher(show.folder, changed, initial=show, quiet_ms=50)
    kiosk = FakeKiosk(show.display)
    app = App(
        show,
        RunOptions(rehearsal=True),
        kiosk=kiosk,
        worker=FakeWorker(),
        inbox=inbox,
        edges={"show-watcher": watcher},
        reloader=Reloader(watcher, inbox),
    )
    app.start()
    try:
        assert watcher.armed.wait(10)

        def save(text: str) -> None:  # as editors do: a new file renamed over the old one
            tmp = toml.with_suffix(".swp")
            tmp.write_text(text)
            tmp.replace(toml)

        good = toml.read_text()
        save(good.replace('prompt = "flat"', 'prompt = "a new prompt"'))
        run_until(app, lambda: app.rule.prompt == "a new prompt", timeout=15)
        app.inbox.put(ev.ThrowCommitted(Throw((1, 2))))
        app.step()
        app.step()
        assert app.presenter.presented[-1].prompt == "a new prompt"
        save(good.replace("count = 2", "count = 0"))
        run_until(app, lambda: kiosk.overlay is not None, timeout=15)
        assert "show.toml:" in kiosk.overlay and "dice.count" in kiosk.overlay
        assert app.rule.prompt == "a new prompt" and app.counters["show-invalid"] == 1
        save(good)  # fixed again: the overlay goes
        run_until(app, lambda: kiosk.overlay is None and app.rule.prompt == "flat", timeout=15)
    finally:
        app.stop()


def test_osc_reload_uses_the_same_path(tmp_path: Path) -> None:
    from installation.core.events import ShowReloaded
    from installation.show.watch import ShowWatcher

    show = make_show(tmp_path)
    inbox = Inbox()
    watcher = ShowWatcher(
        show.folder,
        lambda r: inbox.put(ShowReloaded(r, watcher.last_change if isinstance(r, Show) else None)),
        initial=show,
    )
    app = App(
        show,
        RunOptions(),
        kiosk=FakeKiosk(show.display),
        worker=FakeWorker(),
        inbox=inbox,
        reloader=Reloader(watcher, inbox),
    )
    app.start()
    show.source.write_text(show.source.read_text().replace("flat", "reloaded by OSC"))
    app.inbox.put(ev.ReloadShow("osc"))  # not watching: only the explicit reload applies
    run_until(app, lambda: app.rule.prompt == "reloaded by OSC", timeout=15)
    app.stop()


def test_cues_follow_the_throw_and_lead_the_image_by_the_targets_lead(tmp_path: Path) -> None:
    from installation.osc.fake import FakeCueSender

    show = make_show(
        tmp_path,
        '[[osc.targets]]\nname = "lights"\nhost = "127.0.0.1"\nport = 7000\n'
        'mode = "immediate"\nlead_ms = 250\n',
    )
    clock, wall = Clock(), [5000.0]
    kiosk, cues = FakeKiosk(show.display, clock=clock), FakeCueSender()
    app = App(
        show,
        RunOptions(),
        kiosk=kiosk,
        worker=FakeWorker(clock=clock),
        cues=cues,
        clock=clock,
        wall=lambda: wall[0],
    )
    app.start()
    app.inbox.put(ev.DiceRolling())
    app.step()
    app.inbox.put(ev.ThrowCommitted(Throw((5, 1))))
    app.step()
    app.step()
    assert cues.names == ["started", "landed", "ready", "shown"]
    shown = cues.cues[-1]
    assert shown.at == 5000.25 and (shown.faces, shown.number) == (
        (5, 1),
        app.director.shown.number,
    )
    assert all(c.at is None for c in cues.cues[:-1])
    assert kiosk.presents == []  # held until the moment the receivers were told
    wall[0], clock.t = 5000.2, clock.t + 0.2
    app.step()
    assert kiosk.presents == []
    wall[0], clock.t = 5000.25, clock.t + 0.05
    app.step()
    assert len(kiosk.presents) == 1 and app.presenter.presented[-1].key == "5-1"


def test_reload_with_a_new_engine_swaps_the_worker_off_the_frame_thread(tmp_path: Path) -> None:
    from installation.core.events import ShowReloaded
    from installation.show.changes import diff_shows

    show = make_show(tmp_path)
    built: list[FakeWorker] = []

    def make_worker(s: Show) -> FakeWorker:
        built.append(FakeWorker())
        return built[-1]

    old = FakeWorker(auto=False)  # never answers: the throw below stays pending
    app = App(show, RunOptions(), kiosk=FakeKiosk(show.display), worker=old)
    app.reloader.make_worker = make_worker
    app.start()
    app.inbox.put(ev.ThrowCommitted(Throw((6, 6))))
    app.step()
    assert app.director.pending is not None
    new = load_show(show.folder).model_copy(
        update={"engine": show.engine.model_copy(update={"worker_timeout_s": 30.0})}
    )
    app.inbox.put(ShowReloaded(new, diff_shows(show, new)))
    run_until(app, lambda: app.worker is not old)
    assert built == [app.worker]
    run_until(
        app, lambda: app.presenter.presented
    )  # the pending throw was asked again of the new worker
    assert app.presenter.presented[-1].key == "6-6"
    app.stop()


def test_a_failing_frame_is_counted_and_the_show_goes_on(tmp_path: Path) -> None:
    show = make_show(tmp_path)
    clock = Clock()
    kiosk = FakeKiosk(show.display, clock=clock)
    app = App(
        show, RunOptions(exit_after=3.0), kiosk=kiosk, worker=FakeWorker(clock=clock), clock=clock
    )
    frames = {"n": 0}
    real_frame = kiosk.frame

    def flaky_frame() -> None:
        frames["n"] += 1
        clock.t += 0.1
        if frames["n"] % 3 == 0:
            raise RuntimeError("a driver hiccup")
        real_frame()

    kiosk.frame = flaky_frame  # type: ignore[method-assign]
    assert app.run() == 0  # ran to exit_after despite the failures
    assert app.counters["frame-error"] == frames["n"] // 3 >= 5


def test_the_standby_poster_is_handed_to_the_kiosk(tmp_path: Path) -> None:
    from PIL import Image

    folder = tmp_path / "show"
    folder.mkdir()
    Image.new("RGB", (8, 8), (10, 200, 30)).save(folder / "closed.png")
    show = make_show(tmp_path, "")
    (folder / "show.toml").write_text(
        show.source.read_text().replace("[display]", '[display]\nstandby_image = "closed.png"')
    )
    _, kiosk, _ = fake_app(load_show(folder))
    assert kiosk.poster is not None and tuple(kiosk.poster[0, 0]) == (10, 200, 30)


def test_a_missing_standby_poster_is_a_show_error_with_its_line(tmp_path: Path) -> None:
    from installation.errors import ShowError

    show = make_show(tmp_path)
    show.source.write_text(
        show.source.read_text().replace("[display]", '[display]\nstandby_image = "nope.png"')
    )
    with pytest.raises(ShowError) as err:
        load_show(show.folder)
    (issue,) = err.value.issues
    assert issue.path == "display.standby_image" and issue.line is not None
    assert "nope.png" in issue.message


def test_a_fresh_mode_follower_shows_the_leaders_variation(tmp_path: Path) -> None:
    from installation.core.cluster import PresentAt, RenderShared

    class Link:
        role = "follower"

        def __init__(self) -> None:
            self.ready: list[str] = []

        def local_ready(self, vid: str) -> None:
            self.ready.append(vid)

        def set_open(self, is_open: bool) -> None:
            pass

    show = make_show(tmp_path, seed_mode="fresh")
    clock, wall = Clock(), [100.0]
    link = Link()
    kiosk = FakeKiosk(show.display, clock=clock)
    app = App(
        show,
        RunOptions(),
        kiosk=kiosk,
        worker=FakeWorker(clock=clock),
        room=Room(link),
        clock=clock,
        wall=lambda: wall[0],
    )
    app.start()
    app.inbox.put(RenderShared("L-1", (2, 3), seed=4242, number=17))
    app.step()
    app.step()
    assert link.ready == ["L-1"] and kiosk.presents == []  # held for the room's flip
    app.inbox.put(PresentAt("L-1", at=100.5))
    wall[0] = 100.5
    app.step()
    app.step()
    assert [(v.number, v.seed) for v in app.presenter.presented] == [(17, 4242)]


def test_the_status_records_the_last_throw(tmp_path: Path) -> None:
    from installation.ops.status import StatusBoard

    show = make_show(tmp_path)
    app = App(
        show,
        RunOptions(),
        kiosk=FakeKiosk(show.display),
        worker=FakeWorker(),
        status=StatusBoard(show="t"),
    )
    app.start()
    app.inbox.put(ev.ThrowCommitted(Throw((6, 1), source="osc")))
    app.step()
    app.step()
    snap = app.snapshot()
    assert snap["last_throw"]["faces"] == [6, 1]
    assert snap["latency_ms"]["count"] == 1
    app.stop()


def test_an_older_reloads_worker_never_replaces_a_newer_one(tmp_path: Path) -> None:
    show = make_show(tmp_path)
    running = FakeWorker()
    app = App(show, RunOptions(), kiosk=FakeKiosk(show.display), worker=running)
    app.start()
    app.reloader.generations["worker"] = 2  # two saves in quick succession asked for two
    newer, older = FakeWorker(), FakeWorker()
    newer.start()
    older.start()
    app.inbox.put(WorkerReady(newer, 2))
    app.step()
    assert app.worker is newer
    app.inbox.put(WorkerReady(older, 1))  # the first save's build finished last
    app.step()
    assert app.worker is newer
    run_until(app, lambda: older.health()["state"] == "stopped" and not running.health()["alive"])


def test_a_present_held_for_its_count_sends_shown_when_the_picture_goes_up(
    tmp_path: Path,
) -> None:
    """Cues at the photon moment: a slow disk holds a fresh-mode picture until its count is
    written; the `shown` cue waits with it, and is timed to when the picture goes up."""
    import threading

    from installation.app.parts import FreshCounts
    from installation.osc.fake import FakeCueSender
    from installation.storage.state import CountWriter, StateStore

    class SlowDisk(StateStore):
        def __init__(self, path: Path) -> None:
            super().__init__(path)
            self.release = threading.Event()
            self.written = threading.Event()

        def save_counts(self, count: int, repeats: dict[str, int]) -> None:
            self.release.wait(10)
            super().save_counts(count, repeats)
            self.written.set()

    show = make_show(
        tmp_path,
        '[[osc.targets]]\nname = "lights"\nhost = "127.0.0.1"\nport = 7000\n'
        'mode = "immediate"\nlead_ms = 250\n',
        seed_mode="fresh",
    )
    disk = SlowDisk(show.storage_dir / "state.json")
    clock, wall = Clock(), [5000.0]
    kiosk, cues = FakeKiosk(show.display, clock=clock), FakeCueSender()
    app = App(
        show,
        RunOptions(),
        kiosk=kiosk,
        worker=FakeWorker(clock=clock),
        cues=cues,
        counts=FreshCounts(CountWriter(disk)),
        clock=clock,
        wall=lambda: wall[0],
    )
    app.start()
    app.inbox.put(ev.ThrowCommitted(Throw((5, 1))))
    app.step()
    app.step()
    assert "ready" in cues.names and "shown" not in cues.names  # the count is not on disk
    wall[0], clock.t = 5001.0, clock.t + 1.0
    app.step()
    assert "shown" not in cues.names and kiosk.presents == []
    disk.release.set()
    assert disk.written.wait(5)
    counts = app.presenter.counts
    assert counts is not None
    wait_until(lambda: counts.settled >= 1, 5, "the count writer to settle")
    app.step()
    (shown,) = [c for c in cues.cues if c.name == "shown"]
    assert shown.at == 5001.25  # released at 5001.0, up one lead later
    assert kiosk.presents == []
    wall[0], clock.t = 5001.25, clock.t + 0.25
    app.step()
    assert len(kiosk.presents) == 1
    app.stop()


def test_a_dice_disconnect_reaches_the_status_errors(tmp_path: Path) -> None:
    from installation.ops.status import StatusBoard

    show = make_show(tmp_path)
    board = StatusBoard(show="t")
    app = App(show, RunOptions(), kiosk=FakeKiosk(show.display), worker=FakeWorker(), status=board)
    app.start()
    gone = {"at": 1.0, "reason": "device reports readiness to read but returned no data"}
    app.inbox.put(ev.LinkStatus("dice", {"connected": False, "last_disconnect": gone}))
    app.step()
    snap = board.snapshot()
    assert snap["sections"]["dice"]["connected"] is False
    assert snap["last_error_by_kind"]["dice"]["message"].startswith("dice disconnected: device")
    app.stop()
