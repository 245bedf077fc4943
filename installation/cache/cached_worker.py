"""CachedWorker: the outcome cache in front of the generation worker, at show time.

CachedWorker puts the OutcomeCache in front of the generation worker with the worker's
own contract, and feeds the Prefill plan (prefill.py) to it while it is idle.
with_cache builds it for a show. `installation prerender SHOW` (commands.py) fills the
disk cache before opening, with the engine in this process.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

from installation.cache.disk_io import DiskIO
from installation.cache.keys import painting_stamps
from installation.cache.outcome_cache import OutcomeCache
from installation.cache.prefill import Faces, Prefill, prefill_for
from installation.core.variations import Variation
from installation.worker.replies import Failure, Result, WorkerReply

log = logging.getLogger(__name__)

_END = object()
BACKGROUND_DEPTH = 2  # planned renders handed to the worker at once (see WorkerClient.DEPTH)
# After a live answer the plan waits this long: planning walks every outcome (~1.5 ms of
# the frame thread's time for 36) and would share the GIL and CPU with the picture's way
# to the wall (the archive's journal, the slide) just when it matters.
QUIET_AFTER_ANSWER_S = 0.1


class CachedWorker:
    """WorkerClient's contract with the outcome cache in front.

    A hit answers at the next poll (ms 0, the cache's engine name) without the worker;
    disk hits are read by a thread so the frame never waits. Engine results (never the
    fallback's stand-ins) are stored. The Prefill plan goes to the worker BACKGROUND_DEPTH
    requests at a time, so its child starts the next render as soon as one is done; the
    child renders a live job before queued ones, so a live throw still waits behind at
    most the one render in progress. Background results stay here: only live answers
    go out.
    """

    def __init__(
        self,
        worker: Any,
        cache: OutcomeCache,
        prefill: Prefill | None = None,
        *,
        steps_per_poll: int = 64,
        single_use: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.worker, self.cache, self.prefill = worker, cache, prefill
        self.steps_per_poll = steps_per_poll
        # fresh mode: a thrown variation is never asked for again, so once answered it
        # leaves the cache (memory and disk) instead of filling the budget with the past
        self.single_use = single_use
        self._io = DiskIO(cache, wake=getattr(worker, "wake", None))  # the pacing's event
        self._out: list[WorkerReply] = []
        self._wanted: OrderedDict[Variation, None] = OrderedDict()  # live, not yet answered
        self._latest: Variation | None = None  # the newest live request: the one on show next
        self._bg: dict[Variation, None] = {}  # background requests in flight
        self._plan: Iterator[Variation | None] | None = None
        self._dirty = True  # plan again once the current plan is done
        self._clock = clock
        self._quiet_until = 0.0  # no planning before (QUIET_AFTER_ANSWER_S after an answer)
        self.prefilled = self.background_failures = 0

    # -- the worker's own answers, passed through ---------------------------------------
    @property
    def engine_name(self) -> str:
        """The engine loaded in the worker (hits are answered in its name too)."""
        name: str = self.worker.engine_name
        return name

    @property
    def ready(self) -> bool:
        ready: bool = self.worker.ready
        return ready

    @property
    def describe(self) -> dict[str, str]:
        """The worker's engine description: what keys the cache (see _bind)."""
        describe: dict[str, str] = self.worker.describe
        return describe

    def health(self) -> dict[str, Any]:
        health: dict[str, Any] = self.worker.health()
        return health

    def healthy(self) -> bool:
        """The worker is alive and heartbeating (for the systemd watchdog)."""
        healthy: bool = self.worker.healthy()
        return healthy

    def retry_engine(self) -> bool:
        """Ask the worker to try the wanted engine again (see WorkerClient.retry_engine)."""
        asked: bool = self.worker.retry_engine()
        return asked

    def __repr__(self) -> str:
        return f"<CachedWorker {self.worker!r} {self.cache!r}>"

    def start(self) -> None:
        self.worker.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        self._io.stop(timeout_s)
        self.worker.stop()

    def set_prefill(self, prefill: Prefill | None) -> None:
        """Replace the plan (a show reload): it starts from the top at the next poll.
        Background renders of the old plan in flight still land in the cache."""
        self.prefill, self._plan, self._dirty = prefill, None, True

    def request(self, variation: Variation, live: bool = True) -> None:
        """Answer from the cache when it can; otherwise ask the worker."""
        if not live:
            if not self.cache.contains(variation):
                self.worker.request(variation, live=False)
            return
        self._dirty = True
        self._latest = variation
        image = self.cache.peek(variation)
        if image is not None:
            self._out.append(self._hit(variation, image))
        elif self.cache.on_disk(variation):
            self._io.load(variation)
        else:
            self._ask_live(variation)

    def _ask_live(self, variation: Variation) -> None:
        """Send a live request to the worker. If it was planned work, it is live now: the
        worker may drop it when superseded, so it is no longer awaited as background."""
        self._bg.pop(variation, None)
        self._wanted[variation] = None
        while len(self._wanted) > 32:  # superseded live requests are never answered
            self._wanted.popitem(last=False)
        self.worker.request(variation, live=True)

    def poll(self) -> list[WorkerReply]:
        """Worker results (stored in the cache) and cache hits; feeds the prefill plan."""
        messages = self.worker.poll()
        self._bind()
        out, self._out = self._out, []
        for msg in messages:
            self._route(msg, out)
        for variation, image in self._io.take():
            if image is not None:
                out.append(self._hit(variation, image))
            elif variation == self._latest:  # vanished or corrupt since: render it after all
                self._ask_live(variation)
            # else superseded meanwhile: asking now would supersede the newer throw
        if any(isinstance(msg, Result) for msg in out):
            self._dirty = True
            self._quiet_until = self._clock() + QUIET_AFTER_ANSWER_S
        if self._clock() < self._quiet_until:
            return self._discard_used(out)  # a throw's picture goes up first
        try:
            self._feed()
        except Exception:  # a bug in planning must not reach the frame
            log.exception("cache: prefill planning failed; prefill stopped")
            self.prefill = None
        return self._discard_used(out)

    def _discard_used(self, out: list[WorkerReply]) -> list[WorkerReply]:
        if self.single_use:
            for msg in out:
                if isinstance(msg, Result):
                    self._io.discard(msg.variation)
        return out

    def stats(self) -> dict[str, Any]:
        return {
            **self.cache.stats(),
            "prefilled": self.prefilled,
            "prefilling": self._plan is not None or bool(self._bg),
            "background_failures": self.background_failures,
            "writes_dropped": self._io.dropped,
        }

    def _hit(self, variation: Variation, image: Any) -> Result:
        """A cache answer: made by the engine the cache is bound to."""
        cache = self.cache
        key = cache.key(variation) if cache.on_disk(variation) else None
        source = cache.path(key) if key else None  # written atomically: the archive links it
        return Result(
            variation, image, cache.engine_name, 0.0, describe=cache.engine_info, source=source
        )

    def _bind(self) -> None:
        """Follow the engine the worker reports: a new engine means new keys, a new plan."""
        info = self.worker.describe if self.worker.ready else None
        if info and self.cache.set_engine(info):
            log.info("cache: engine %s; keys follow its description", self.cache.engine_name)
            self._plan, self._dirty = None, True

    def _route(self, msg: WorkerReply, out: list[WorkerReply]) -> None:
        v = msg.variation
        if isinstance(msg, Result) and not msg.fallback and msg.engine == self.cache.engine_name:
            try:
                if self.cache.put(v, msg.image, disk=False):
                    self._io.write(v, msg.image)
            except ValueError as e:  # a wrong-size image is shown by the app, never kept
                log.warning("cache: not keeping %s: %s", v.key, e)
        # Planned, and not thrown since (a throw takes it out of _bg): a throw of it
        # before the plan was superseded, so the app no longer waits for it.
        background = self._bg.pop(v, 0) is None
        self._wanted.pop(v, None)
        if not background:
            out.append(msg)
        elif isinstance(msg, Failure):
            self.background_failures += 1
            log.info("cache: background render of %s failed (%s)", v.key, msg.kind)
        else:
            self.prefilled += 1

    def _feed(self) -> None:
        """Keep BACKGROUND_DEPTH planned background renders with the worker."""
        if self._bg and self._worker_idle():
            # The worker dropped them (superseded while live, say): nothing will come back.
            log.debug("cache: worker idle; forgetting background %s", [v.key for v in self._bg])
            self._bg.clear()
        if self.prefill is None or len(self._bg) >= BACKGROUND_DEPTH:
            return
        if not self.cache.engine_known:
            return
        if not self.worker.ready:
            return
        if self._plan is None:
            if not self._dirty:
                return
            self._plan, self._dirty = self.prefill.plan(self.cache.contains), False
        for _ in range(self.steps_per_poll):
            v = next(self._plan, _END)
            if v is _END:
                self._plan = None
                return
            if isinstance(v, Variation) and self._plannable(v):
                self._bg[v] = None
                self.worker.request(v, live=False)
                if len(self._bg) >= BACKGROUND_DEPTH:
                    return

    def _plannable(self, v: Variation) -> bool:
        """Not cached and not the live request waiting: the worker would ignore it as
        background work, and drop it if a newer throw supersedes it."""
        return not self.cache.contains(v) and not (v == self._latest and v in self._wanted)

    def _worker_idle(self) -> bool:
        """Nothing rendering or queued in the worker (its results of this poll are in)."""
        try:
            health = self.worker.health()
            return not health["busy"] and not health["queued"]
        except Exception:  # a worker without health(): trust the bookkeeping
            return False


def open_cache(show: Any, engine_info: dict[str, str] | None = None) -> OutcomeCache:
    """The show's cache (<storage>/cache) with its budgets and painting stamps."""
    from installation.engine_spec import spec_from_show

    spec = spec_from_show(show)
    return OutcomeCache(
        show.storage_dir / "cache",
        memory_mb=show.cache.memory_mb,
        disk_mb=show.cache.disk_mb,
        engine_info=engine_info or {},
        painting_stamp=painting_stamps(spec.paintings, spec.mask),
    )


def with_cache(
    show: Any, worker: Any, next_variation: Callable[[Faces], Variation] | None = None
) -> Any:
    """The worker with the show's cache in front (unchanged when both budgets are 0).
    `next_variation` lets fresh seed mode pre-render each outcome's next variation."""
    from installation.show.schema import variation_rule

    if show.cache.memory_mb <= 0 and show.cache.disk_mb <= 0:
        return worker
    cache = open_cache(show)
    prefill = None
    if show.cache.prerender:
        rule = variation_rule(show)
        budget = cache.capacity(rule.params)
        prefill = prefill_for(rule, show.dice.count, budget, next_variation)
    single_use = show.variations.seed_mode == "fresh"
    return CachedWorker(worker, cache, prefill, single_use=single_use)
