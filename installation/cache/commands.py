"""`installation prerender SHOW`: fill the show's disk cache before opening.

It renders in this process with the same engine build (`build_engine(spec_from_show)`)
and the same variation rule as the kiosk, so what it stores is exactly what the worker
would have made; an offline command needs no crash isolation.

It walks the plan lazily, so any show the schema accepts (8 dice of 100 faces: 10**16
outcomes) costs the same memory. How many are already cached is counted first only when
the plan is small enough to walk twice quickly (COUNT_FIRST); beyond that, cached
outcomes are skipped as the walk reaches them and `--limit N` stops after N renders.

It holds the storage lock (storage/lock.py) while it runs, as the kiosk does: the cache
has one writer. While a kiosk runs it refuses with exit status 5, the status `run` gives
when another kiosk holds the lock, and a kiosk started during a prerender is refused
naming it.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Iterator
from typing import Any, TextIO

from installation.cache.cached_worker import open_cache
from installation.cache.outcome_cache import OutcomeCache
from installation.cache.prefill import Faces, prefill_for
from installation.core.variations import Variation, VariationRule
from installation.progress import ProgressBar

log = logging.getLogger(__name__)

COUNT_FIRST = 100_000  # plans up to this many outcomes are counted before rendering (~1 s)
EXIT_RUNNING = 5  # as `installation run`: the storage lock is held (a kiosk runs)


# -- `installation prerender SHOW` ------------------------------------------------------
def register(sub: Any) -> None:
    """Add `prerender` to the CLI's subparsers."""
    p: argparse.ArgumentParser = sub.add_parser(
        "prerender",
        help="fill the show's disk cache before opening",
        description="Render the show's outcomes into <storage>/cache with the show's engine, "
        "so the kiosk answers throws at once. Resumable: cached outcomes are skipped. "
        "Exit status 0 when done, 1 when renders or the disk failed, 2 for an invalid show, "
        "5 while a kiosk runs on the show's storage (stop it first).",
    )
    p.add_argument("show", help="show folder containing show.toml, or a .toml file")
    p.add_argument("--limit", type=_count, metavar="N", help="render at most N outcomes")
    p.set_defaults(func=cmd_prerender)


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number 0 or more, got {text!r}")
    return value


def _fresh_lookahead(show: Any, rule: VariationRule) -> Callable[[Faces], Variation]:
    """Fresh mode: each outcome's next variation, from the show's persisted progress."""
    from installation.core.director import Director, DirectorConfig
    from installation.storage.state import StateStore

    count, repeats = StateStore(show.storage_dir / "state.json").counts()
    config = DirectorConfig(show.dice.count, show.dice.faces, show.display.attract_after_s)
    return Director(config, rule, now=0.0, count=count, repeats=repeats).next_variation


def cmd_prerender(args: argparse.Namespace) -> int:
    """Load the show, take the storage lock, build its engine here, render what the cache
    lacks."""
    from installation.errors import ShowError, StorageBusy, StorageError
    from installation.show.load import load_show
    from installation.show.schema import variation_rule
    from installation.storage.lock import StorageLock

    err = sys.stderr
    try:
        show = load_show(args.show)
    except ShowError as e:
        print("\n".join(str(i) for i in e.issues), file=err)
        return 2
    rule = variation_rule(show)
    if show.cache.disk_mb <= 0:
        print("[cache] disk_mb is 0: there is no disk cache to fill", file=err)
        return 1
    try:  # the cache's one writer, before the engine loads
        lock = StorageLock.acquire(show.storage_dir, f"{show.show.name} (installation prerender)")
    except StorageBusy as e:
        print(
            f"prerender: {e}; the cache has one writer: stop that one first (the kiosk: "
            "systemctl stop installation), then prerender again",
            file=err,
        )
        return EXIT_RUNNING
    except StorageError as e:
        print(f"prerender: {e}", file=err)
        return 1
    with lock:
        return _prerender(show, rule, err, args.limit)


def _prerender(show: Any, rule: VariationRule, err: TextIO, limit: int | None) -> int:
    from installation.engine_spec import spec_from_show
    from installation.engines.build import build_engine
    from installation.errors import InstallationError

    try:
        engine = build_engine(spec_from_show(show))
    except (InstallationError, OSError, ImportError) as e:
        print(f"error: the engine did not load: {e}", file=err)
        return 1
    info = {str(k): str(v) for k, v in engine.describe().items()}
    disk_only = show.cache.model_copy(update={"memory_mb": 0})
    cache = open_cache(show.model_copy(update={"cache": disk_only}), info)
    prefill = prefill_for(
        rule, show.dice.count, cache.capacity(rule.params), _fresh_lookahead(show, rule)
    )
    assert prefill is not None
    todo = prefill.pending(cache.contains, limit)
    head = f"engine {engine.name} ({info.get('model', info.get('algorithm', ''))}); "
    head += f"{prefill.target} of {len(prefill.outcomes)} outcomes fit the cache"
    total: int | None = None
    if prefill.target <= COUNT_FIRST:
        waiting = sum(1 for _ in prefill.pending(cache.contains))
        total = waiting if limit is None else min(waiting, limit)
        head += f", {prefill.target - waiting} already cached, {total} to render"
    else:
        head += "; cached ones are skipped as the walk reaches them"
        if limit is not None:
            head += f"; at most {limit} to render"
    print(head, file=err)
    if total is None:
        total = prefill.target if limit is None else min(prefill.target, limit)
    return _render_all(engine, cache, todo, total, err)


def _render_all(
    engine: Any, cache: OutcomeCache, todo: Iterator[Variation], planned: int, err: TextIO
) -> int:
    """Render and store each variation as the plan yields it (`planned`: the progress
    bar's total); stop at the first disk failure."""
    from installation.errors import UnsafeImage

    progress, failed, unsafe, done = ProgressBar(planned, err), 0, 0, 0
    if planned:
        progress.update(0)
    for i, v in enumerate(todo, start=1):
        done = i
        errors = cache.counts["disk_errors"]
        try:
            cache.put(v, engine.render(v))  # checks the size; writes the PNG
        except UnsafeImage:
            unsafe += 1  # the kiosk re-rolls it live; never cached
        except Exception as e:
            failed += 1
            log.error("prerender: %s (seed %d) failed: %s: %s", v.key, v.seed, type(e).__name__, e)
        if cache.counts["disk_errors"] > errors:
            progress.finish()
            print(f"error: could not write to the cache at {cache.dir} (see the log)", file=err)
            return 1
        progress.update(i)
    progress.finish()
    s = cache.stats()
    print(
        f"rendered {done - failed - unsafe}, failed {failed}, unsafe {unsafe}; "
        f"cache {s['disk_entries']} images, {s['disk_bytes'] / 2**20:.1f} MB "
        f"({100 * s['fill']:.0f}% of [cache] disk_mb)",
        file=err,
    )
    return 1 if failed else 0
