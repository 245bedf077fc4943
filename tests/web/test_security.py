"""Who may do what, CSRF, paths out of the archive, sign-in rate limits and a flood."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from installation.ops.soak.inject import send_raw_http
from tests.web.helpers import Client, Running, api, basic, password


def blackout(r: Running) -> bool:
    return bool(r.app.blackout)


def test_no_session_gets_the_sign_in_page_or_401(running: Running) -> None:
    c = Client(running.port)
    for path in ("/", "/controls", "/archive", "/outcomes", "/log", "/events", "/now.jpg"):
        status, headers, _ = c.request("GET", path)
        assert status == 303 and headers["location"].startswith("/signin?next="), path
    status, _, body = c.form("/controls/blackout", {"csrf": "x"})
    assert status == 401 and b"sign in" in body
    status, _, body = c.request("GET", "/signin")
    assert status == 200 and b'id="signin"' in body


def test_a_viewers_post_is_403_and_changes_nothing(running: Running) -> None:
    c = Client(running.port)
    assert c.sign_in("viewer") == 303 and c.csrf
    for path in ("/controls/blackout", "/outcomes/3-5/approve", "/controls/hours"):
        status, _, body = c.post(path, {"to": "close"})
        assert status == 403 and b"viewer" in body, path
    assert c.request("GET", "/controls")[0] == 403
    assert not blackout(running)
    assert not (running.show.folder / "curation.toml").exists()


def test_a_post_without_the_csrf_token_is_rejected(running: Running) -> None:
    c = Client(running.port)
    assert c.sign_in("technician") == 303
    status, _, body = c.form("/controls/blackout", {})
    assert status == 403 and b"CSRF" in body
    status, _, _ = c.form("/controls/blackout", {"csrf": "not-the-token"})
    assert status == 403
    # the right token from another site's page: refused by its Origin
    status, _, body = c.form(
        "/controls/blackout", {"csrf": c.csrf}, headers={"Origin": "http://evil.example"}
    )
    assert status == 403 and b"cross-site" in body
    assert not blackout(running)
    status, headers, _ = c.post("/controls/blackout")
    assert status == 303 and headers["location"].startswith("/controls?done=blackout")
    running.wait(lambda: blackout(running), what="blackout")


def test_dot_dot_never_leaves_the_archive(running: Running) -> None:
    tech = basic("technician")
    api(running.port, "POST", "/api/throw", {"faces": [2, 2]}, auth=tech)
    archive = running.show.storage_dir / "archive"
    found = running.wait(lambda: list(archive.glob("*/*.png")), what="an archived picture")
    day = found[0].parent.name
    secret = running.show.storage_dir / "secret.png"  # a real PNG, outside the archive
    shutil.copy(found[0], secret)
    (archive / "export").mkdir(exist_ok=True)
    c = Client(running.port)
    assert c.sign_in("artist") == 303
    assert c.request("GET", f"/archive/{day}/{found[0].name}/image")[0] == 200
    bad = [
        f"/archive/{day}/../secret.png/image",
        f"/archive/{day}/%2e%2e/secret.png",
        "/archive/%2e%2e/secret.png/image",
        f"/archive/{day}/..%2fsecret.png/image",
        f"/archive/{day}/..%2F..%2Fsecret.png/download",
        f"/archive/{day}/%2e%2e%2fsecret.png/thumb",
        "/archive/..%2f..%2fshow.toml/x/image",
        f"/archive/{day}/%2e%2e%2f%2e%2e%2f..%2fshow%2fshow.toml/image",
        "/archive/exports/..%2f..%2fsecret.png",
        "/archive/exports/%2e%2e%2fsecret.png",
        "/static/../console.py",
        "/static/%2e%2e/console.py",
        "/static/%2e%2e%2f%2e%2e%2fconsole.py",
    ]
    for path in bad:
        status, _, body = c.request("GET", path)
        assert status == 404, (path, status)
        assert not body.startswith(b"\x89PNG") and b"[show]" not in b"" + body, path


def test_wrong_passwords_are_rate_limited(running: Running) -> None:
    now = time.monotonic()
    running.console.ctx.limit.clock = lambda: now  # the wait cannot run out during the test
    c = Client(running.port)
    statuses = [c.sign_in("curator", "wrong-password") for _ in range(5)]
    assert statuses == [401] * 5
    status, headers, body = c.form("/signin", {"name": "curator", "password": "wrong-again"})
    assert status == 401  # the sixth failure starts the wait
    status, headers, body = c.form("/signin", {"name": "curator", "password": password("curator")})
    assert status == 429 and int(headers["retry-after"]) >= 1 and b"try again" in body
    # the same for scripts over HTTP Basic, from the same address
    status, body = api(running.port, "GET", "/api/status", auth=basic("artist"))
    assert status == 429 and "try again" in body["error"]
    assert running.console.status()["counts"]["signin_refused"] >= 2


MALFORMED = [
    b"GARBAGE\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    b"POST /api/throw HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Type: application/json"
    b"\r\nAuthorization: Basic !!\r\n\r\n{{{{{",
    b"GET /api/status HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer nope\r\n\r\n",
    b"POST /archive/%ff%fe/%00.png/pick HTTP/1.1\r\nHost: x\r\nCookie: console_session=forged"
    b"\r\nAuthorization: Basic Zm9vOmJhcg==\r\n\r\n",
    b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /controls/throw HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
    b"GET /static/%2e%2e/x HTTP/1.1\r\nHost: x\r\n\r\n",
]


def test_a_burst_of_malformed_requests_gets_4xx_and_the_wall_goes_on(running: Running) -> None:
    port = running.port
    steps_before = running.steps[0]
    deadline = time.monotonic() + 120
    answers: dict[int, int] = {}
    for i in range(1000):
        assert time.monotonic() < deadline, "the burst took too long"
        status = send_raw_http(port, MALFORMED[i % len(MALFORMED)])
        answers[status] = answers.get(status, 0) + 1
    assert all(400 <= s < 500 for s in answers), answers
    assert running.steps[0] > steps_before  # the frame loop kept stepping
    assert running.thread.is_alive()
    tech = basic("technician")
    assert api(port, "POST", "/api/throw", {"faces": [1, 6]}, auth=tech)[0] == 202
    running.wait(lambda: (running.status().get("last_variation") or {}).get("key") == "1-6")


def test_users_added_while_running_can_sign_in_and_removed_ones_are_out(
    running: Running, tmp_path: Path
) -> None:
    from installation.web.users import add_user, remove_user

    c = Client(running.port)
    assert c.sign_in("viewer") == 303
    add_user(running.show.storage_dir, "guest", "viewer", "guest-password")
    running.wait(lambda: Client(running.port).sign_in("guest", "guest-password") == 303)
    remove_user(running.show.storage_dir, "viewer")
    running.wait(lambda: c.request("GET", "/")[0] == 303, what="the session to end")
