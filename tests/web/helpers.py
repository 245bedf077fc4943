"""A real App (fake screen and worker, real status board and archive) with the real console
on 127.0.0.1:0, its frame loop stepping in a thread; and a small HTTP client on loopback."""

from __future__ import annotations

import base64
import http.client
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from installation.app import App, RunOptions
from installation.app.housekeeper import Housekeeper
from installation.display.fake import FakeKiosk
from installation.ops.status import StatusBoard
from installation.show.load import load_show
from installation.show.schema import Show
from installation.storage.archive import archive_for
from installation.web.console import WebConsole
from installation.web.users import add_user
from installation.worker.fake import FakeWorker
from tests import shows

ROLES = ("viewer", "technician", "curator", "artist")


def password(role: str) -> str:
    return f"secret-{role}-pass"


def make_show(tmp_path: Path, extra: str = "") -> Show:
    folder = tmp_path / "show"
    folder.mkdir(exist_ok=True)
    toml = shows.show_toml(
        extra,
        show={"name": "webtest"},
        display={"label": False},
        web={"listen": "127.0.0.1:0"},
    )
    (folder / "show.toml").write_text("# the curator's comment stays\n" + toml, "utf-8")
    show = load_show(folder)
    for role in ROLES:
        add_user(show.storage_dir, role, role, password(role))
    return show


@dataclass
class Running:
    app: App
    console: WebConsole
    show: Show
    stop: threading.Event
    thread: threading.Thread
    steps: list[int] = field(default_factory=lambda: [0])

    @property
    def port(self) -> int:
        assert self.console.address is not None
        return self.console.address[1]

    def wait(self, done: Callable[[], Any], timeout: float = 15.0, what: str = "") -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = done()
            if value:
                return value
            assert time.monotonic() < deadline, f"timed out waiting for {what or done}"
            time.sleep(0.01)

    def status(self) -> dict[str, Any]:
        return self.app.snapshot()


def run_show(show: Show, extra_edges: dict[str, Any] | None = None) -> Iterator[Running]:
    """Start the app and its console; the frame loop steps in a thread until the end."""
    clock = time.monotonic
    board = StatusBoard(show=show.show.name)
    app = App(
        show,
        RunOptions(),
        kiosk=FakeKiosk(show.display, clock=clock),
        worker=FakeWorker(clock=clock),
        status=board,
        archive=archive_for(show),
        housekeeper=Housekeeper(
            board, None, show.storage_dir / "status.json", worker_grace_s=60, started_at=clock()
        ),
    )
    console = WebConsole(show.web.listen, show, app.inbox, app.snapshot)
    app.edges["web"] = console
    for name, edge in (extra_edges or {}).items():
        app.edges[name] = edge
    app.start()
    stop = threading.Event()
    running = Running(app, console, show, stop, threading.Thread(target=lambda: None))

    def loop() -> None:
        while not stop.is_set():
            app.step()
            running.steps[0] += 1
            stop.wait(0.005)  # frame pacing, like the kiosk's

    running.thread = threading.Thread(target=loop, name="frames", daemon=True)
    running.thread.start()
    try:
        yield running
    finally:
        stop.set()
        running.thread.join(10)
        app.stop()


class Client:
    """One browser-like client: keeps the session cookie, never follows redirects."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookie = ""
        self.csrf = ""

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        h = dict(headers or {})
        if self.cookie:
            h.setdefault("Cookie", self.cookie)
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        out = {k.lower(): v for k, v in r.getheaders()}
        conn.close()
        return r.status, out, data

    def form(
        self, path: str, fields: dict[str, str], **kw: Any
    ) -> tuple[int, dict[str, str], bytes]:
        body = urlencode(fields).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", **kw.get("headers", {})}
        return self.request("POST", path, body, headers)

    def sign_in(self, name: str, pw: str | None = None) -> int:
        status, headers, _ = self.form("/signin", {"name": name, "password": pw or password(name)})
        if status == 303:
            self.cookie = headers["set-cookie"].split(";")[0]
            page = self.request("GET", "/")[2].decode()
            m = re.search(r'name="csrf" value="([^"]+)"', page)
            self.csrf = m.group(1) if m else ""
        return status

    def post(
        self, path: str, fields: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        return self.form(path, {"csrf": self.csrf, **(fields or {})})


def basic(name: str, pw: str | None = None) -> dict[str, str]:
    token = base64.b64encode(f"{name}:{pw or password(name)}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def api(
    port: int,
    method: str,
    path: str,
    payload: Any = None,
    *,
    auth: dict[str, str] | None = None,
    raw: bytes | None = None,
    content_type: str = "application/json",
) -> tuple[int, Any]:
    """curl-style: HTTP Basic, JSON in and out."""
    body = raw if raw is not None else (None if payload is None else json.dumps(payload).encode())
    headers = dict(auth or {})
    if body is not None:
        headers["Content-Type"] = content_type
    status, _, data = Client(port).request(method, path, body, headers)
    try:
        return status, json.loads(data)
    except ValueError:
        return status, data.decode(errors="replace")
