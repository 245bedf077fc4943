"""The console under a flood: frame times of a real App while 1,000 malformed requests
hit its console on loopback, against the same App with the console idle.

The App runs with the fake screen and worker (no GPU, no window: the frame work itself is
small, so what moves is the console's share of the GIL and the CPU). Its loop steps at a
60 Hz pace in a thread, timing each step and each frame interval; the burst is sent from
the main thread, one connection per request, as fast as the console answers.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from bench.common import Result, spread
from installation.ops.soak.inject import send_raw_http

MALFORMED = [
    b"GARBAGE\r\n\r\n",
    b"POST /api/throw HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    b"Authorization: Basic !!\r\nContent-Length: 5\r\n\r\n{{{{{",
    b"GET /api/status HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer x\r\n\r\n",
    b"GET /static/%2e%2e/x HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /controls/throw HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
]
FRAME_S = 1 / 60


def _show(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "show.toml").write_text(
        '[show]\nname = "webbench"\n[dice]\ncount = 2\nfaces = 6\n'
        '[variations]\nprompt = "flat"\nwidth = 64\nheight = 64\n'
        "[display]\nfullscreen = false\nwindow_size = [160, 120]\n"
        '[osc]\nlisten = ""\n[web]\nlisten = "127.0.0.1:0"\n',
        "utf-8",
    )
    return folder


def bench_web_burst(tmp: Path, requests: int = 1000, idle_s: float = 3.0) -> Result:
    from installation.app import App, RunOptions
    from installation.display.fake import FakeKiosk
    from installation.ops.status import StatusBoard
    from installation.show.load import load_show
    from installation.web.console import WebConsole
    from installation.worker.fake import FakeWorker

    show = load_show(_show(tmp / "webbench"))
    app = App(show, RunOptions(), kiosk=FakeKiosk(show.display), worker=FakeWorker(),
              status=StatusBoard(show="webbench"))  # fmt: skip
    console = WebConsole(show.web.listen, show, app.inbox, app.snapshot)
    app.edges["web"] = console
    app.start()
    assert console.address is not None
    steps: list[tuple[float, float, float]] = []  # (start, step ms, interval ms)
    stop = threading.Event()

    def frames() -> None:
        last = time.perf_counter()
        while not stop.is_set():
            t0 = time.perf_counter()
            app.step()
            t1 = time.perf_counter()
            steps.append((t0, (t1 - t0) * 1000, (t0 - last) * 1000))
            last = t0
            stop.wait(max(0.0, FRAME_S - (time.perf_counter() - t0)))

    thread = threading.Thread(target=frames, name="bench-frames", daemon=True)
    thread.start()
    try:
        time.sleep(idle_s)  # the baseline: the console is listening, nobody asks
        burst_start = time.perf_counter()
        answers: dict[int, int] = {}
        for i in range(requests):
            status = send_raw_http(console.address[1], MALFORMED[i % len(MALFORMED)])
            answers[status] = answers.get(status, 0) + 1
        burst_end = time.perf_counter()
    finally:
        stop.set()
        thread.join(5)
        app.stop()
    idle = [s for s in steps if s[0] < burst_start]
    busy = [s for s in steps if burst_start <= s[0] <= burst_end]
    result = Result(
        "8",
        "Console: frame times during a 1,000-request burst",
        "a real App (fake screen and worker) stepping at 60 Hz in a thread while its console "
        f"answers {requests} malformed requests on loopback, one connection each; frame "
        "intervals (pace 16.7 ms) and step times, idle console vs during the burst",
    )
    spread(result, "idle frame interval", [s[2] for s in idle[1:]])
    spread(result, "burst frame interval", [s[2] for s in busy], goal=FRAME_S * 1000 * 2)
    spread(result, "burst step time", [s[1] for s in busy])
    seconds = burst_end - burst_start
    result.add("burst requests answered per second", requests / seconds, "req/s", better="higher")
    result.samples = len(busy)
    wrong = {k: v for k, v in answers.items() if not 400 <= k < 500}
    if wrong:
        result.notes.append(f"answers outside 4xx: {wrong}")
    result.notes.append(f"burst took {seconds:.1f} s; answers {dict(sorted(answers.items()))}")
    return result
