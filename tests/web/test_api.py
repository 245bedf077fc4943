"""The JSON API with curl-style HTTP Basic against the real server on 127.0.0.1:0: every
error case answers 4xx JSON naming the problem; what is accepted reaches the wall."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.helpers import Running, api, basic


def key_on_wall(r: Running) -> Any:
    return (r.status().get("last_variation") or {}).get("key")


def test_status_is_the_same_snapshot_as_osc(running: Running) -> None:
    status, body = api(running.port, "GET", "/api/status", auth=basic("viewer"))
    assert status == 200
    assert body["show"] == "webtest"
    assert set(body) >= {"state", "engine", "fps", "latency_ms", "sections", "errors"}
    assert body["sections"]["web"]["listen"] == f"127.0.0.1:{running.port}"


def test_throw_blackout_resume_roll_reload_reach_the_wall(running: Running) -> None:
    tech = basic("technician")
    assert api(running.port, "POST", "/api/throw", {"faces": [3, 5]}, auth=tech)[0] == 202
    running.wait(lambda: key_on_wall(running) == "3-5", what="3-5 on the wall")
    assert running.status()["last_throw"]["source"] == "web:technician"
    assert api(running.port, "POST", "/api/blackout", auth=tech)[0] == 202
    running.wait(lambda: running.app.kiosk.state == "blackout", what="blackout")  # type: ignore[attr-defined]
    assert api(running.port, "POST", "/api/resume", {}, auth=tech)[0] == 202
    running.wait(lambda: running.app.kiosk.state == "presenting", what="resume")  # type: ignore[attr-defined]
    before = running.status()["counts"]["throws"]
    assert api(running.port, "POST", "/api/roll", auth=tech)[0] == 202
    running.wait(lambda: running.status()["counts"]["throws"] == before + 1, what="roll")
    status, body = api(running.port, "POST", "/api/reload", auth=tech)
    assert (status, body["queued"]) == (202, "reload")


@pytest.mark.parametrize(
    ("payload", "raw", "needle"),
    [
        ({"faces": [3]}, None, "2 whole numbers"),
        ({"faces": [3, 7]}, None, "die 2 is 7"),
        ({"faces": [0, 1]}, None, "die 1 is 0"),
        ({"faces": [True, 1]}, None, "die 1 is true"),
        ({"faces": ["3", 5]}, None, "die 1"),
        ({"faces": "3,5"}, None, "faces"),
        ({"faces": [3, 5], "extra": 1}, None, '{"faces": [3, 5]}'),
        ([3, 5], None, "JSON object"),
        (None, b"{not json", "not JSON"),
        (None, b"\xff\xfe", "not JSON"),
        (None, b"", "JSON object"),
    ],
)
def test_bad_throws_are_400_json_naming_the_problem(
    running: Running, payload: Any, raw: bytes | None, needle: str
) -> None:
    status, body = api(
        running.port, "POST", "/api/throw", payload, raw=raw, auth=basic("technician")
    )
    assert status == 400, body
    assert needle in body["error"]


def test_error_cases_have_their_status(running: Running) -> None:
    port = running.port
    # no credentials: 401 with a Basic challenge
    status, body = api(port, "GET", "/api/status")
    assert status == 401 and "Basic" in body["error"]
    assert api(port, "GET", "/metrics")[0] == 401
    # wrong password, unknown user, garbage Authorization: 401
    assert api(port, "GET", "/api/status", auth=basic("viewer", "wrong-password"))[0] == 401
    assert api(port, "GET", "/api/status", auth=basic("nobody", "whatever-pw"))[0] == 401
    assert api(port, "GET", "/api/status", auth={"Authorization": "Basic !!!"})[0] == 401
    # a viewer may look but not act: 403 naming the role needed
    status, body = api(port, "POST", "/api/blackout", auth=basic("viewer"))
    assert status == 403 and "technician" in body["error"]
    # unknown action 404, wrong method 405, arguments where none are taken 400
    status, body = api(port, "POST", "/api/explode", auth=basic("technician"))
    assert status == 404 and "blackout" in body["error"]
    assert api(port, "GET", "/api/blackout", auth=basic("technician"))[0] == 405
    status, body = api(port, "POST", "/api/blackout", {"now": 1}, auth=basic("technician"))
    assert status == 400 and "no arguments" in body["error"]
    # a form's content type (what a cross-site page could send with cached Basic): 415
    status, body = api(
        port,
        "POST",
        "/api/blackout",
        raw=b"x=1",
        auth=basic("technician"),
        content_type="application/x-www-form-urlencoded",
    )
    assert status == 415 and "JSON" in body["error"]
    # too large a body: 413
    status, body = api(port, "POST", "/api/throw", raw=b"[" * 20000, auth=basic("technician"))
    assert status == 413
    assert api(port, "GET", "/api/no/such/thing", auth=basic("viewer"))[0] == 404
    assert running.app.kiosk.state != "blackout"  # type: ignore[attr-defined]


def test_metrics_are_prometheus_text(running: Running) -> None:
    api(running.port, "POST", "/api/throw", {"faces": [6, 6]}, auth=basic("technician"))
    running.wait(lambda: key_on_wall(running) == "6-6", what="6-6")
    from prometheus_client.parser import text_string_to_metric_families

    status, text = api(running.port, "GET", "/metrics", auth=basic("viewer"))
    assert status == 200
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert families["installation_throws"].samples[0].value == 1
    assert families["installation_variations_shown"].samples[0].value == 1
    hist = families["installation_throw_to_screen_seconds"]
    count = [s for s in hist.samples if s.name.endswith("_count")]
    assert count[0].value == 1
    for name in (
        "installation_fps",
        "installation_worker_restarts",
        "installation_cache_hits",
        "installation_cache_misses",
        "installation_faults",
    ):
        assert name in families
