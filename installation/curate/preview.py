"""`installation preview`: one variation, rendered exactly as the kiosk would present it
(with --screen WxH: the whole screen, label included; curate/screen_preview.py).

Same derivation (variation_rule + derive_variation; blocked seeds and unsafe images are
re-rolled the way the app does), same engine (build_engine(spec_from_show(show))), same
size. The engine runs in this process: a curator tool may wait, and the worker's child
builds its engine from the very same spec, so the pixels are identical (checked by a test
against the app and the real worker). The outcome cache is used when it exists, and filled
only while the tool holds the storage lock (claim_cache): while a kiosk runs it is the
cache's one writer, and a tool beside it only reads (cache/reader.py).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from installation.core.dice import Throw
from installation.core.variations import MAX_REROLLS, Variation, reroll
from installation.engine_spec import spec_from_show
from installation.engines.build import build_engine
from installation.engines.engine import Engine
from installation.errors import CurateError, OutputPathError, ShowError, UnsafeImage
from installation.show.schema import Show, variation_rule

log = logging.getLogger(__name__)


def parse_faces(text: str, dice: int, faces: int) -> tuple[int, ...]:
    """'3,5' (or '3-5', '3 5') as faces, checked against the show's dice."""
    parts = [p for p in text.replace("-", ",").replace(" ", ",").split(",") if p]
    example = ",".join(str(min(i + 1, faces)) for i in range(dice))
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        raise CurateError(
            f"--dice {text!r}: faces must be whole numbers separated by commas, e.g. {example}"
        ) from None
    try:
        Throw(values).validate(dice, faces)
    except ValueError as e:
        raise CurateError(f"--dice {text!r}: {e}; e.g. --dice {example}") from None
    return values


def director_for(show: Show) -> Any:
    """A Director as the app builds it (fresh mode: the persisted count and repeats), so a
    tool asks the app's own rule what the next throw of some faces will be."""
    from installation.core.director import Director, DirectorConfig
    from installation.storage.state import StateStore

    rule = variation_rule(show)
    count, repeats = 0, dict[str, int]()
    if rule.seed_mode == "fresh":
        count, repeats = StateStore(show.storage_dir / "state.json").counts()
    d = show.dice
    config = DirectorConfig(d.count, d.faces, show.display.attract_after_s)
    return Director(config, rule, now=0.0, count=count, repeats=repeats)


def kiosk_variation(show: Show, faces: tuple[int, ...], repeat: int | None = None) -> Variation:
    """The variation the app would render for this throw next, blocked seeds re-rolled as it
    does. Fresh seed mode: `repeat` asks for this outcome's Nth throw instead of the next."""
    director = director_for(show)
    if repeat is not None and show.variations.seed_mode == "fresh":
        if repeat < 1:
            raise CurateError(f"--repeat must be 1 or more, got {repeat}")
        director.repeats[Throw(faces).key] = repeat - 1
    return director.next_variation(faces)


@dataclass(frozen=True, eq=False)
class Rendered:
    """An image and how it was made."""

    variation: Variation
    image: np.ndarray
    engine: str
    cached: bool


class ShowRenderer:
    """The show's engine (built once, lazily) plus its outcome cache when there is one.
    fill_cache=False: the cache is only read (a kiosk holds the storage lock)."""

    def __init__(
        self,
        show: Show,
        *,
        use_cache: bool = True,
        fill_cache: bool = True,
        engine: Engine | None = None,
    ):
        self.show = show
        self.use_cache = use_cache
        self.fill_cache = fill_cache
        self._engine = engine
        self._cache: Any = None
        self._cache_tried = False
        self.rendered = 0  # renders by the engine (cache misses)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = build_engine(spec_from_show(self.show))
        return self._engine

    def describe(self) -> dict[str, str]:
        try:
            return {str(k): str(v) for k, v in self.engine.describe().items()}
        except Exception as e:  # the description is for records; never fatal
            return {"engine": self.engine.name, "describe_error": str(e)}

    @property
    def cache(self) -> Any:
        """The show's OutcomeCache (a CacheReader when not filling), or None without one."""
        if not self._cache_tried:
            self._cache_tried = True
            if self.use_cache and self.fill_cache:
                self._cache = open_cache(self.show, self.describe())
            elif self.use_cache:
                from installation.cache.reader import open_reader

                self._cache = open_reader(self.show, self.describe())
        return self._cache

    def render(self, variation: Variation) -> Rendered:
        """The image for `variation` (re-rolling unsafe images as the app does)."""
        while True:
            hit = self._cached(variation)
            if hit is not None:
                return Rendered(variation, hit, self.engine.name, cached=True)
            try:
                image = checked(self.engine.render(variation), variation)
            except UnsafeImage:
                if variation.reroll >= MAX_REROLLS:
                    raise CurateError(
                        f"outcome {variation.key}: the safety checker flagged every re-roll"
                    ) from None
                variation = reroll(variation_rule(self.show), variation)
                continue
            self.rendered += 1
            self._store(variation, image)
            return Rendered(variation, image, self.engine.name, cached=False)

    def _cached(self, variation: Variation) -> np.ndarray | None:
        cache = self.cache
        if cache is None:
            return None
        try:
            image = cache.get(variation)
        except Exception as e:  # a broken cache only costs time
            log.warning("cache read failed for %s: %s", variation.key, e)
            return None
        return None if image is None else np.asarray(image, np.uint8)

    def _store(self, variation: Variation, image: np.ndarray) -> None:
        cache = self.cache
        if cache is not None and self.fill_cache:
            try:
                cache.put(variation, image)
            except Exception as e:
                log.warning("cache write failed for %s: %s", variation.key, e)


def checked(image: object, variation: Variation) -> np.ndarray:
    """The engine's output as the worker checks it: contiguous HxWx3 uint8 of the asked size."""
    from installation.worker.child import checked_image as _checked

    return _checked(image, variation)


def open_cache(show: Show, engine_info: dict[str, str]) -> Any:
    """The show's OutcomeCache (cache.cached_worker.open_cache), or None when it has no
    budget or cannot be opened: without a cache a tool is slower, never wrong."""
    if show.cache.memory_mb <= 0 and show.cache.disk_mb <= 0:
        return None
    try:
        from installation.cache.cached_worker import open_cache as open_show_cache

        return open_show_cache(show, engine_info)
    except Exception as e:
        log.warning("outcome cache unavailable (%s); rendering without it", e)
        return None


@contextlib.contextmanager
def claim_cache(show: Show, tool: str, use_cache: bool = True) -> Iterator[bool]:
    """Whether `tool` may fill the show's cache: while it holds the storage lock, as the
    kiosk does (a kiosk started meanwhile is refused, naming the tool). When a kiosk or
    prerender holds it, or storage cannot be locked, one line on stderr says the cache is
    only read."""
    from installation.errors import StorageError
    from installation.storage.lock import StorageLock

    if not use_cache:
        yield False
        return
    try:
        lock = StorageLock.acquire(show.storage_dir, f"{show.show.name} (installation {tool})")
    except StorageError as e:  # StorageBusy: a kiosk runs
        print(f"{tool}: {e}; reading the cache, not filling it", file=sys.stderr)
        yield False
        return
    with lock:
        yield True


def provenance(
    show: Show, variation: Variation, engine_info: dict[str, str], **extra: str
) -> dict[str, str]:
    """How a picture was made, as flat strings (PNG text chunks and JSON sidecars)."""
    p = variation.params
    paintings = show.artwork.paintings
    out = {
        "show": show.show.name,
        "faces": variation.key,
        "number": str(variation.number),
        "seed": str(variation.seed),
        "reroll": str(variation.reroll),
        "repeat": str(getattr(variation, "repeat", 0)),
        "prompt": variation.prompt,
        "negative_prompt": variation.negative_prompt,
        "painting": str(paintings[variation.painting]) if paintings else "",
        "strength": f"{p.strength:g}",
        "steps": str(p.steps),
        "guidance": f"{p.guidance:g}",
        "size": f"{p.width}x{p.height}",
        "engine": engine_info.get("engine", ""),
        "model": engine_info.get("model", ""),
        "fingerprint": engine_info.get("fingerprint", engine_info.get("algorithm", "")),
        "engine_info": json.dumps(engine_info, sort_keys=True),
        "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    out.update(extra)
    return out


def preview(
    show: Show,
    faces: tuple[int, ...],
    repeat: int | None = None,
    *,
    use_cache: bool = True,
    fill_cache: bool = True,
) -> tuple[Rendered, dict[str, str]]:
    """Render one throw as the kiosk would; returns the image and its provenance."""
    renderer = ShowRenderer(show, use_cache=use_cache, fill_cache=fill_cache)
    result = renderer.render(kiosk_variation(show, faces, repeat))
    info = provenance(show, result.variation, renderer.describe(), made_by="installation preview")
    return result, info


def run_preview(args: argparse.Namespace) -> int:
    """CLI: render one throw to a PNG and say what it is."""
    from installation.show.load import load_show
    from installation.storage.outputs import checked_output
    from installation.storage.png import save_png

    try:
        show = load_show(args.show)
        faces = parse_faces(args.dice, show.dice.count, show.dice.faces)
        given = args.output and checked_output(args.output, parents=args.parents)  # before work
        with claim_cache(show, "preview", not args.no_cache) as fill:
            result, info = preview(
                show, faces, args.repeat, use_cache=not args.no_cache, fill_cache=fill
            )
        picture = result.image
        if getattr(args, "screen", None):
            from installation.curate.screen_preview import parse_screen, screen_picture

            size = parse_screen(args.screen)
            picture = screen_picture(show, result.variation, picture, result.engine, size)
            info["screen"] = f"{size[0]}x{size[1]}"
        out = given or checked_output(
            f"preview-{show.show.name}-{result.variation.key}.png", parents=False
        )
        save_png(picture, out, info, output=True)
    except ShowError as e:
        print(e, file=sys.stderr)
        return 2
    except (CurateError, OutputPathError, OSError) as e:
        print(f"preview: {e}", file=sys.stderr)
        return 2
    v = result.variation
    source = "from the cache" if result.cached else f"rendered by {result.engine}"
    print(f"{out}: variation {v.number} ({v.key}), seed {v.seed}, {source}")
    print(f"prompt: {v.prompt}")
    return 0
