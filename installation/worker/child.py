"""The engine side of the generation worker (see worker/client.py).

child_main runs inside the spawned worker process: it loads the engine (or the
fallback engine, with the reason why as the hello's note), says hello, sends heartbeats
from a thread and renders one job at a time. A reader thread takes jobs off the pipe as
they come (the parent may hand over two), and the next job is a live one if any waits,
else the oldest; each job is announced ("started") before it renders. FallbackRenderer
is the parent's own stand-in while the child cannot serve: the procedural FallbackEngine
in a daemon thread. Both check an engine's output with checked_image.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from installation.core.variations import Variation
from installation.engines.build import load_problem, wanted_engine
from installation.engines.engine import Engine, EngineSpec
from installation.errors import UnsafeImage
from installation.worker.trace import stamp

# The worker's logger: these lines read as the worker's, as they did before the split.
log = logging.getLogger("installation.worker.client")


# -- child side ---------------------------------------------------------------------------
def child_main(conn: Connection, spec: EngineSpec, heartbeat_s: float, log_level: int) -> None:
    """Entry point of the worker process: hello, heartbeats, then one render per job."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the parent, which stops us
    from installation.ops.logs import setup_logging

    setup_logging(logging.getLevelName(log_level))
    lock = threading.Lock()

    def send(*parts: Any) -> None:
        with lock:  # the heartbeat thread sends too; a result is two messages
            conn.send(parts[0])
            if len(parts) > 1:
                conn.send_bytes(parts[1])

    threading.Thread(target=_beat, args=(send, heartbeat_s), daemon=True).start()
    engine, note = _load_engine(spec)
    jobs = JobQueue()
    try:
        send(("hello", engine.name, _describe(engine), note))
        threading.Thread(target=_read_jobs, args=(conn, jobs), daemon=True).start()
        while (job := jobs.next()) is not None:
            started = stamp()
            send(("started", job[0]))
            send(*_render(engine, job[0], job[1], (*job[2], started)))
    except (EOFError, OSError):  # the parent went away: nothing left to serve
        return


class JobQueue:
    """The child's jobs: put by the reader thread, taken by the render loop (live first)."""

    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._jobs: list[tuple[int, Variation, bool, tuple[float, float]]] = []
        self._closed = False

    def put(
        self, job_id: int, variation: Variation, live: bool, stamps: tuple[float, float]
    ) -> None:
        """A job; `stamps`: when the parent sent it and when it came (worker/trace.py)."""
        with self._cv:
            self._jobs.append((job_id, variation, live, stamps))
            self._cv.notify()

    def close(self) -> None:
        """Stop: the render in progress finishes, queued jobs are dropped."""
        with self._cv:
            self._closed = True
            self._cv.notify()

    def next(self) -> tuple[int, Variation, tuple[float, float]] | None:
        """The next job (a live one before any background one) with its stamps, or None
        once closed."""
        with self._cv:
            self._cv.wait_for(lambda: self._jobs or self._closed)
            if self._closed:
                return None
            i = next((i for i, job in enumerate(self._jobs) if job[2]), 0)
            job_id, variation, _, stamps = self._jobs.pop(i)
            return job_id, variation, stamps


def _read_jobs(conn: Connection, jobs: JobQueue) -> None:
    """Reader thread: render requests into `jobs`; anything else (stop) or EOF closes it."""
    try:
        while (msg := conn.recv())[0] == "render":
            sent = msg[4] if len(msg) > 4 and isinstance(msg[4], float) else math.nan
            jobs.put(msg[1], msg[2], bool(msg[3]) if len(msg) > 3 else True, (sent, stamp()))
    except (EOFError, OSError):
        pass
    jobs.close()


def _beat(send: Callable[..., None], interval: float) -> None:
    while True:
        try:
            send(("beat",))
        except Exception:
            os._exit(0)  # parent gone
        time.sleep(interval)


def _load_engine(spec: EngineSpec) -> tuple[Engine, str]:
    """The engine the spec asks for, or the fallback engine with the reason why (the
    parent reports it once and tries the wanted engine again later)."""
    try:
        return wanted_engine(spec), ""  # engines warm themselves up (spec.warmup)
    except Exception as e:
        return _fallback_engine(spec), load_problem(spec, e)


def _fallback_engine(spec: EngineSpec) -> Engine:
    from installation.engines.fallback import FallbackEngine

    return FallbackEngine(spec.paintings)


def _describe(engine: Engine) -> dict[str, str]:
    try:
        return {str(k): str(v) for k, v in engine.describe().items()}
    except Exception as e:
        return {"engine": engine.name, "describe_error": f"{type(e).__name__}: {e}"}


def _render(
    engine: Engine, job: int, variation: Variation, stamps: tuple[float, ...]
) -> tuple[Any, ...]:
    """One render as messages for the parent: a result header + pixels, or a failure.
    The header carries `stamps` and the call's own (worker/trace.py)."""
    t0 = stamp()
    try:
        image = checked_image(engine.render(variation), variation)
    except UnsafeImage as e:
        return (("failure", job, "unsafe", str(e) or "flagged by the safety checker"),)
    except Exception as e:
        kind = "oom" if _is_oom(e) else "error"
        if kind == "oom":
            log.error("generation worker: out of memory rendering %s; freeing cache", variation.key)
            _free_cuda()
        return (("failure", job, kind, f"{type(e).__name__}: {e}"),)
    t1 = stamp()
    header = ("result", job, engine.name, image.shape, (t1 - t0) * 1000.0)
    return (*header, (*stamps, t0, t1, stamp())), image.data.cast("B")


def _is_oom(e: BaseException | None) -> bool:
    """torch's OutOfMemoryError, also when an engine wrapped it; by name, to not import torch."""
    for _ in range(8):
        if e is None:
            return False
        if type(e).__name__ == "OutOfMemoryError":
            return True
        e = e.__cause__ or e.__context__
    return False


def checked_image(image: object, variation: Variation) -> np.ndarray:
    """The engine's output as a contiguous HxWx3 uint8 array of the asked size, or ValueError."""
    arr = np.ascontiguousarray(image)
    want = (*variation.params.output_size()[::-1], 3)
    if arr.dtype != np.uint8 or arr.shape != want:
        raise ValueError(
            f"engine returned a {arr.dtype} array of shape {arr.shape}; expected uint8 {want}"
        )
    return arr


def _free_cuda() -> None:
    torch = sys.modules.get("torch")
    if torch is not None:
        with contextlib.suppress(Exception):
            torch.cuda.empty_cache()


# -- the parent's own fallback ------------------------------------------------------------
class FallbackRenderer:
    """Renders the newest submitted variation in a daemon thread with the fallback engine.

    take() hands back (variation, image, ms, describe) for each finished render; the
    client wraps them as fallback Results. describe is the fallback engine's, or says a
    flat colour stood in.
    """

    def __init__(self, spec: EngineSpec) -> None:
        self._spec = spec
        self._cv = threading.Condition()
        self._want: Variation | None = None
        self._busy = False
        self._done: list[tuple[Variation, np.ndarray, float, dict[str, str]]] = []
        self._thread: threading.Thread | None = None
        self._stopping = False

    def submit(self, variation: Variation) -> None:
        with self._cv:
            self._want = variation
            self._cv.notify()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="fallback", daemon=True)
                self._thread.start()

    @property
    def busy(self) -> bool:
        return self._busy or self._want is not None

    def take(self) -> list[tuple[Variation, np.ndarray, float, dict[str, str]]]:
        with self._cv:
            done, self._done = self._done, []
        return done

    def stop(self) -> None:
        with self._cv:
            self._stopping = True
            self._cv.notify()

    def _run(self) -> None:
        engine: Engine | None = None
        while True:
            with self._cv:
                while self._want is None and not self._stopping:
                    self._cv.wait()
                if self._stopping:
                    return
                variation, self._want, self._busy = self._want, None, True
            assert variation is not None
            t0 = time.perf_counter()
            try:
                engine = engine or _fallback_engine(self._spec)
                image = checked_image(engine.render(variation), variation)
                describe = _describe(engine)
            except Exception:
                log.exception("fallback render of %s failed; showing a flat colour", variation.key)
                image, describe = _flat(variation), dict(FLAT_DESCRIBE)
            ms = (time.perf_counter() - t0) * 1000.0
            with self._cv:
                self._done.append((variation, image, ms, describe))
                self._busy = False


FLAT_DESCRIBE = {"engine": "fallback", "algorithm": "flat colour from the seed"}


def _flat(variation: Variation) -> np.ndarray:
    """Last resort: a mid-tone flat colour from the seed (never black)."""
    seed = variation.seed
    colour = [64 + (seed >> s) % 128 for s in (0, 8, 16)]
    return np.full((*variation.params.output_size()[::-1], 3), colour, np.uint8)
