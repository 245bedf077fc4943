"""The generation worker: an engine in a child process, supervised from the display loop.

The parent side (WorkerClient) never blocks: poll() runs every frame, reads at most a
few messages and supervises the child (dead, hung or silent: kill, restart with
backoff). While the child cannot serve, the newest live request is rendered by the
procedural FallbackEngine in a parent thread, so the wall never waits.

Queueing is pull-style: the parent keeps the queue (the newest live request first,
then de-duplicated background requests) and hands the child at most DEPTH jobs at a
time. So superseded live requests never reach the child. Two background jobs in the
child keep it busy while the parent reads the last result (up to a frame later); the
child renders a live job before any queued one (child.py), so a throw waits behind at
most the one render in progress, and no background job is handed over while live work
is in the child or waiting. The child says when it starts a job, so a hang or crash is
blamed on the right one and the jobs it never started are asked for again. The pipe
itself is read and written by two threads (pipe.py): a child stopped half-way through a
message never holds the frame; with a `wake` event (the frame pacing's), the pipe's
reader sets it when the child has sent something, so a result is taken at once.

A child that is lost in any way (its pipe ends, it exits, it hangs, it sends no hello,
the show stops) is always ended and reaped: SIGTERM (with SIGCONT, so a stopped child
acts on it), SIGKILL after TERMINATE_GRACE_S, then waitpid. A stopped child left alive
would keep its GPU memory; a child not reaped would stay a zombie.

The code that runs in the child, and the parent's fallback thread, live in child.py;
what poll() returns (Result | Failure: a WorkerReply) in replies.py; when to try a
model that did not load again, in retry.py.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from multiprocessing import get_context
from multiprocessing.process import BaseProcess
from typing import Any

from installation.core.variations import Variation
from installation.engines.engine import EngineSpec
from installation.worker.child import FallbackRenderer, child_main
from installation.worker.jobs import Job, enqueue, give_back, rendering, result_of
from installation.worker.pipe import ChildPipe, Pixels
from installation.worker.reap import TERMINATE_GRACE_S, Dying, close, end, terminate
from installation.worker.replies import Failure, Result, WorkerReply
from installation.worker.retry import RETRY_S, EngineRetry, Report

log = logging.getLogger(__name__)

MAX_MESSAGES_PER_POLL = 8  # a flood of results must not starve a frame
LOST_GRACE_S = 0.25  # after its pipe ends, a child has this long to be reaped as exited
DEPTH = 2  # jobs handed to the child at once (a live one may come on top)


# -- parent side --------------------------------------------------------------------------
class WorkerClient:
    """The display loop's handle on the worker process. Every method returns at once."""

    def __init__(
        self,
        spec: EngineSpec,
        *,
        hang_timeout_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        backoff: tuple[float, float] = (0.5, 10.0),
        start_timeout_s: float | None = None,
        retry_s: float = RETRY_S,
        report: Report | None = None,
        wake: threading.Event | None = None,
    ) -> None:
        if not hang_timeout_s > 0:
            raise ValueError(f"hang_timeout_s must be above 0 seconds, got {hang_timeout_s!r}")
        if not 0 < backoff[0] <= backoff[1]:
            raise ValueError(f"backoff must be (first, max) with 0 < first <= max, got {backoff!r}")
        self.spec = spec
        self.hang_timeout_s = float(hang_timeout_s)
        # Loading a model (and torch.compile) may take minutes; heartbeats run meanwhile.
        self.start_timeout_s = float(start_timeout_s or max(600.0, hang_timeout_s))
        self.clock = clock
        self.backoff = backoff
        self.restarts = self.renders = self.failures = 0
        self.describe: dict[str, str] = {}
        self._engine = "stopped"
        self._state = "stopped"  # stopped | starting | ready | killing | down
        self._proc: BaseProcess | None = None
        self._pipe: ChildPipe | None = None
        self._dying = Dying()  # killed children not yet reaped
        self._flight: dict[int, Job] = {}  # handed to the child, not answered; by id
        self._jobs = 0
        self._live: Variation | None = None
        self._bg: OrderedDict[Variation, None] = OrderedDict()
        self._spawned_at = self._last_beat = self._kill_at = self._restart_at = 0.0
        self._streak = 0  # failures since the last good render: drives the backoff
        self._heard = False
        self._lost_at: float | None = None  # when the pipe ended (the child may be exiting)
        self._held: list[WorkerReply] = []  # replies that arose inside request()
        self._fallback = FallbackRenderer(spec)
        self.retry = EngineRetry(spec, retry_s, report)  # a model that did not load
        self.wake = wake  # set when the child has sent something (a result: poll now)

    def __repr__(self) -> str:
        job = self._current()
        busy = job.variation.key if job else None
        return (
            f"<WorkerClient {self._state} engine={self._engine} busy={busy} "
            f"restarts={self.restarts} renders={self.renders} failures={self.failures}>"
        )

    @property
    def engine_name(self) -> str:
        """The engine loaded in the child; 'starting' until its hello, 'down' between lives."""
        return self._engine

    @property
    def ready(self) -> bool:
        return self._state == "ready"

    def start(self) -> None:
        """Spawn the child (spawn context: never fork a process that has torch or SDL threads)."""
        if self._state == "stopped":
            self._fallback = FallbackRenderer(self.spec)  # a fresh thread after a stop()
            self._spawn()

    def request(self, variation: Variation, live: bool = True) -> None:
        """Ask for an image. A live request supersedes queued live ones; background ones queue."""
        self._live = enqueue(variation, live, self._flight, self._live, self._bg)
        self._guard(self._dispatch, self._held)

    def poll(self) -> list[WorkerReply]:
        """Results, failures and fallback images since the last call; also supervises."""
        out, self._held = self._held, []
        self._guard(self._read, out)
        self._guard(self._supervise, out)
        self._guard(self._dispatch, out)
        out.extend(
            Result(v, image, "fallback", ms, fallback=True, describe=describe)
            for v, image, ms, describe in self._fallback.take()
        )
        return out

    def retry_engine(self) -> bool:
        """While the fallback stands in for the wanted engine, try that engine again at the
        next idle moment (a show reload asks: the model disk may have been mounted).
        False when there is nothing to retry."""
        return self.retry.ask()

    def health(self) -> dict[str, Any]:
        now = self.clock()
        alive = self._proc is not None and self._proc.is_alive()
        job = self._current()
        age = now - self._last_beat if self._state in ("starting", "ready") else None
        return {
            "alive": alive,
            "state": self._state,
            "engine": self._engine,
            "pid": self._proc.pid if self._proc is not None else None,
            "restarts": self.restarts,
            "busy": bool(self._flight),
            "last_heartbeat_age_s": None if age is None else round(age, 3),
            "in_flight": job.variation.key if job else None,
            "started": job is not None and job.started_at is not None,  # the child said so
            "queued": len(self._bg) + (self._live is not None),
            "in_child": len(self._flight),
            "renders": self.renders,
            "failures": self.failures,
            "fallback_busy": self._fallback.busy,
            "upscale": self.describe.get("upscale", "off"),  # "FAIL: ..." when it did not load
            **self.retry.health(now),
        }

    def healthy(self) -> bool:
        """The child is alive and heartbeating (for the systemd watchdog)."""
        if self._state not in ("starting", "ready") or self._proc is None:
            return False
        return self._proc.is_alive() and self.clock() - self._last_beat <= self.hang_timeout_s

    def stop(self, timeout_s: float = 2.0) -> None:
        """Ask the child to exit, then end it (SIGTERM, SIGKILL) and reap it, with children
        being killed after a loss too. Blocks up to ~3x timeout_s: shutdown only."""
        proc, pipe = self._proc, self._pipe
        self._state, self._engine = "stopped", "stopped"
        self._proc = self._pipe = None
        self._flight = {}
        self._fallback.stop()
        if pipe is not None:
            pipe.send(("stop",))
        if proc is not None:
            proc.join(timeout_s)
            end(proc, timeout_s)
        self._dying.end_all(timeout_s)
        if pipe is not None:
            pipe.close()

    # -- internals ------------------------------------------------------------------------
    def _current(self) -> Job | None:
        return rendering(self._flight)

    def _guard(self, step: Callable[[list[WorkerReply]], None], out: list[WorkerReply]) -> None:
        """Run one step of poll/request; a bug here is logged, never raised into the frame."""
        try:
            step(out)
        except Exception:
            log.exception("generation worker: unexpected error in %s", step.__name__)

    def _spawn(self) -> None:
        ctx = get_context("spawn")
        parent, child = ctx.Pipe(duplex=True)
        beat = min(0.5, self.hang_timeout_s / 4)
        level = logging.getLogger().getEffectiveLevel()
        proc = ctx.Process(
            target=child_main,
            args=(child, self.spec, beat, level),
            name="installation-worker",
            daemon=True,  # dies with the parent; torch's compile pools cope with daemons
        )
        self._spawned_at = self._last_beat = self.clock()
        self._heard = False  # until the first beat, only start_timeout_s applies
        try:
            proc.start()
        except Exception as e:
            log.error("generation worker: could not start a process: %s", e)
            parent.close()
            self._down(self._spawned_at)
            return
        finally:
            child.close()
        self._proc, self._pipe, self._lost_at = proc, ChildPipe(parent, wake=self.wake), None
        self._state, self._engine = "starting", "starting"

    def _read(self, out: list[WorkerReply]) -> None:
        pipe = self._pipe
        if pipe is None or self._state not in ("starting", "ready"):
            return
        messages, lost = pipe.take(MAX_MESSAGES_PER_POLL)
        for msg, payload in messages:
            self._handle(msg, payload, out)
        if lost is None or self._pipe is not pipe:
            return
        # A child that exits closes its pipe a moment before it can be reaped: give it that
        # moment, so the log says "exited with code N" (see _trouble), not just "lost".
        now, proc = self.clock(), self._proc
        self._lost_at = now if self._lost_at is None else self._lost_at
        if proc is not None and proc.is_alive() and now - self._lost_at < LOST_GRACE_S:
            return
        code = proc.exitcode if proc else None
        self._fail_child(out, "crash", f"lost its pipe ({lost}, exit {code})")

    def _handle(self, msg: tuple[Any, ...], payload: Pixels | None, out: list[WorkerReply]) -> None:
        self._last_beat, self._heard = self.clock(), True
        if msg[0] == "hello":
            _, self._engine, self.describe, note = msg
            self._state = "ready"
            pid = self._proc.pid if self._proc else None
            log.info("generation worker ready: engine %s (pid %s)", self._engine, pid)
            self.retry.hello(self._engine, note, self.clock())
            self.retry.upscale(self.describe.get("upscale", ""))
            return
        if msg[0] == "started":
            started = self._flight.get(msg[1])
            if started is not None:
                started.started_at = self._last_beat
            return
        if msg[0] not in ("result", "failure"):
            return
        job = self._flight.pop(msg[1], None)
        if job is None:
            return
        if msg[0] == "result":
            self.renders += 1
            self._streak = 0
            result = result_of(job, msg, payload, dict(self.describe))
            renamed = result.engine != self._engine  # an upscale pass failed mid-run
            self.retry.upscale(f"FAIL: {result.engine} (see the log)" if renamed else "")
            out.append(result)
            return
        _, _, kind, reason = msg
        self.failures += 1
        log.warning("generation worker: %s failed (%s): %s", job.variation.key, kind, reason)
        out.append(Failure(job.variation, reason, kind))
        if kind != "unsafe" and job.live and self._live is None:
            self._fallback.submit(job.variation)

    def _supervise(self, out: list[WorkerReply]) -> None:
        now, proc = self.clock(), self._proc
        dying = self._dying.reap(now)  # a restart waits until a killed child has ended
        if self._state == "down" and now >= self._restart_at and not dying:
            self.restarts += 1
            self._spawn()
        elif self._state == "killing" and proc is not None:
            if not proc.is_alive():  # is_alive() reaps without waiting
                close(proc)
                self._proc, self._state = None, "down"
            elif now >= self._kill_at:  # SIGTERM was not enough (or the child is stopped)
                self._dying.kill(proc, now)  # and reap it as soon as it has ended
                self._proc, self._state = None, "down"
        elif self._state in ("starting", "ready") and proc is not None:
            reason, kind = self._trouble(now, proc), "hang"
            if reason is None:
                if self._state == "ready" and not self._flight and self.retry.due(now):
                    self._try_wanted_engine(now)
                return
            if reason.startswith("exited"):
                kind = "crash"
            self._fail_child(out, kind, reason)

    def _trouble(self, now: float, proc: BaseProcess) -> str | None:
        """Why the child must be replaced, or None while it is fine."""
        if not proc.is_alive():
            return f"exited with code {proc.exitcode}"
        if self._state == "starting" and now - self._spawned_at > self.start_timeout_s:
            return f"sent no hello within {self.start_timeout_s:g} s"
        if self._heard and now - self._last_beat > self.hang_timeout_s:
            return f"sent no heartbeat for {now - self._last_beat:.1f} s"
        job = self._current()
        since = None if job is None else job.started_at or job.sent_at
        if job is not None and since is not None and now - since > self.hang_timeout_s:
            return f"spent {now - since:.1f} s rendering {job.variation.key}"
        return None

    def _fail_child(self, out: list[WorkerReply], kind: str, reason: str) -> None:
        """Report the job being rendered, hand the live request to the fallback, ask again
        for the jobs the child never started, kill, restart."""
        now, job, proc = self.clock(), self._current(), self._proc
        unstarted = [j for j in self._flight.values() if j is not job]
        self._flight = {}
        self._live = give_back(unstarted, self._live, self._bg)
        busy = f" while rendering {job.variation.key} seed {job.variation.seed}" if job else ""
        pid, engine = (proc.pid if proc else None), self._engine
        delay = self._down(now)
        log.error(
            "generation worker (pid %s, engine %s) %s%s; restart #%d in %.1f s",
            pid,
            engine,
            reason,
            busy,
            self.restarts + 1,
            delay,
        )
        if job is not None:
            self.failures += 1
            out.append(Failure(job.variation, f"worker {reason}", kind))
            if job.live and self._live is None:
                self._live = job.variation  # _dispatch hands it to the fallback
        if self._pipe is not None:
            self._pipe.close()
            self._pipe = None
        if proc is not None and proc.is_alive():
            terminate(proc)
            self._state, self._kill_at = "killing", now + TERMINATE_GRACE_S
        elif proc is not None:
            close(proc)
            self._proc = None

    def _try_wanted_engine(self, now: float) -> None:
        """Replace the idle fallback child by a new one that loads the wanted engine. Live
        requests go to the parent's fallback meanwhile; queued ones wait for the new child."""
        proc, pipe = self._proc, self._pipe
        log.info("generation worker: trying engine %s again", self.spec.engine)
        self.retry.started()
        self._proc = self._pipe = None
        if pipe is not None:
            pipe.close()
        if proc is not None:
            self._dying.kill(proc, now)  # it only ran the fallback: nothing to finish
        self._spawn()

    def _down(self, now: float) -> float:
        """Enter 'down' and schedule the restart with exponential backoff; returns the delay."""
        self._streak += 1
        delay = min(self.backoff[1], self.backoff[0] * 2 ** (self._streak - 1))
        self._restart_at = now + delay
        self._state, self._engine, self.describe = "down", "down", {}
        return delay

    def _dispatch(self, out: list[WorkerReply]) -> None:
        """Give the idle child its next job, or the live request to the fallback if it can't."""
        if self._state != "ready":
            if self._live is not None:
                self._fallback.submit(self._live)
                self._live = None
            return
        while self._pipe is not None and self._state == "ready":
            live_work = any(j.live for j in self._flight.values())
            if self._live is not None and not live_work:
                variation, live, self._live = self._live, True, None
            elif self._live is None and not live_work and self._bg and len(self._flight) < DEPTH:
                variation, live = self._bg.popitem(last=False)[0], False
            else:
                return
            self._jobs += 1
            job = self._flight[self._jobs] = Job(self._jobs, variation, live, self.clock())
            self._pipe.send(("render", job.id, variation, live))  # a dead pipe shows in _read
