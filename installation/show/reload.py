"""Live reload: watch the show folder, load every save, report a good Show or its ShowError.

Editors replace files on save, which loses a watch on the file itself, so the FOLDER is
watched (watchfiles) and events are filtered to show.toml and the show's assets
(paintings, mask, any image file); the storage folder (cache, archive, state) and editor
temp files are ignored. watchfiles' `step` is the quiet period: a burst of writes (write,
rename, touch) becomes one reload. An invalid save is reported as the ShowError (every
issue with file:line) and the caller keeps its last good show.

diff_shows says what a good reload changed, sorted by what it takes to apply it: pictures
(and which outcomes' cache entries are stale), the generation worker, the display, live
settings, or a restart.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from installation.core.dice import Throw, all_outcomes, outcome_count
from installation.core.variations import derive_variation, render_prompt
from installation.errors import ShowError
from installation.show.load import load_show, locate_show
from installation.show.schema import Show, variation_rule

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp"})
MAX_LISTED_OUTCOMES = 10_000  # above this, a prompt change marks every outcome stale

# What each key needs when it changes. Keys are "section.key" or a whole "section".
RENDER = ("variations", "artwork", "engine.device", "engine.tiny_vae", "engine.compile")
ENGINE = (
    "variations.engine",
    "variations.model",
    "variations.model_config_dir",
    "artwork",
    "engine",
    "safety.checker",
    "safety.required",
)
DISPLAY = ("display", "show")
LIVE = (
    "safety.blocked_seeds",
    "safety.approved_only",
    "safety.approved",
    "osc.targets",
    "osc.heartbeat_s",
    "schedule",
)
# budgets, folders and devices opened once at start: a reload names them, a restart applies them
RESTART = (
    "dice",
    "osc.listen",
    "osc.allow",
    "osc.reply_port",
    "storage",
    "cluster",
    "cache",
    "archive",
    "projectors",
    "variations.seed_mode",
    "display.standby_image",
    "display.fullscreen",
    "display.display",
    "display.window_size",
)
PROMPT_ONLY = frozenset({"variations.prompt", "variations.variants"})


def _matches(key: str, prefixes: Iterable[str]) -> bool:
    return any(key == p or key.startswith(p + ".") for p in prefixes)


@dataclass(frozen=True)
class ShowChange:
    """What a reload changed, as dotted keys, grouped by what applying it takes.

    A key may be in several groups (variations.model: renders and engine).
    stale: outcome keys ('3-5') whose pictures changed, so exactly their cache entries
    can be dropped; None means every outcome (or the dice changed: restart).
    """

    keys: tuple[str, ...] = ()
    renders: tuple[str, ...] = ()
    engine: tuple[str, ...] = ()
    display: tuple[str, ...] = ()
    live: tuple[str, ...] = ()
    restart: tuple[str, ...] = ()
    assets: tuple[str, ...] = ()  # painting/mask files whose content changed
    stale: frozenset[str] | None = field(default_factory=frozenset)

    @property
    def changed(self) -> bool:
        return bool(self.keys or self.assets)

    @property
    def needs_restart(self) -> bool:
        return bool(self.restart)

    @property
    def needs_new_worker(self) -> bool:
        return bool(self.engine or self.assets)

    def summary(self) -> str:
        """One line for the log and the rehearsal overlay."""
        if not self.changed:
            return "no change"
        parts = [f"changed {', '.join(self.keys + self.assets)}"]
        if self.restart:
            parts.append(f"restart needed for {', '.join(self.restart)}")
        if self.stale is None:
            parts.append("every picture is re-rendered")
        elif self.stale:
            parts.append(f"{len(self.stale)} outcome(s) re-rendered")
        return "; ".join(parts)


def changed_keys(old: Show, new: Show) -> list[str]:
    """Dotted keys ('variations.prompt', or a whole 'schedule') whose values differ."""
    a, b = old.model_dump(), new.model_dump()  # folder and source are excluded
    keys = []
    for section in sorted(set(a) | set(b)):
        va, vb = a.get(section), b.get(section)
        if va == vb:
            continue
        if isinstance(va, dict) and isinstance(vb, dict):
            keys += [f"{section}.{k}" for k in sorted(set(va) | set(vb)) if va.get(k) != vb.get(k)]
        else:
            keys.append(section)
    return keys


def diff_shows(
    old: Show,
    new: Show,
    *,
    old_assets: Mapping[str, str] | None = None,
    new_assets: Mapping[str, str] | None = None,
) -> ShowChange:
    """What changed from `old` to `new`. Pass asset_stamps() of each to see file edits."""
    keys = changed_keys(old, new)
    if old.folder != new.folder:
        keys.append("storage")  # another folder: state, cache and archive move
    assets = _changed_assets(old_assets or {}, new_assets or {})
    renders = [k for k in keys if _matches(k, RENDER)]
    known = RENDER + ENGINE + DISPLAY + LIVE + RESTART
    return ShowChange(
        keys=tuple(keys),
        renders=tuple(renders),
        engine=tuple(k for k in keys if _matches(k, ENGINE)),
        display=tuple(k for k in keys if _matches(k, DISPLAY)),
        live=tuple(k for k in keys if _matches(k, LIVE)),
        # a key no table knows is new to this code: only a restart is surely right
        restart=tuple(k for k in keys if _matches(k, RESTART) or not _matches(k, known)),
        assets=assets,
        stale=stale_outcomes(old, new, renders, assets),
    )


def _changed_assets(old: Mapping[str, str], new: Mapping[str, str]) -> tuple[str, ...]:
    return tuple(sorted(k for k in set(old) & set(new) if old[k] != new[k]))


def stale_outcomes(
    old: Show, new: Show, renders: Iterable[str], assets: Iterable[str] = ()
) -> frozenset[str] | None:
    """Outcome keys whose pictures the change invalidates; None: all of them."""
    renders, assets = set(renders), tuple(assets)
    if not renders and not assets:
        return frozenset()
    if (old.dice.count, old.dice.faces) != (new.dice.count, new.dice.faces):
        return None
    if not renders <= PROMPT_ONLY or assets:
        return _stale_by_painting(new, assets) if not renders else None
    d = new.dice
    if outcome_count(d.count, d.faces) > MAX_LISTED_OUTCOMES:
        return None
    o, n = old.variations, new.variations
    ov, nv = _variants(o.variants), _variants(n.variants)
    stale = set()
    for faces in all_outcomes(d.count, d.faces):
        if render_prompt(o.prompt, ov, faces) != render_prompt(n.prompt, nv, faces):
            stale.add("-".join(map(str, faces)))
    return frozenset(stale)


def _variants(v: list[list[str]]) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(x) for x in v)


def _stale_by_painting(show: Show, assets: tuple[str, ...]) -> frozenset[str] | None:
    """Only some paintings changed: in fixed mode, just the outcomes that use them."""
    paintings = [str(p) for p in show.artwork.paintings]
    d = show.dice
    total = outcome_count(d.count, d.faces)
    changed = {paintings.index(a) for a in assets if a in paintings}
    if show.variations.seed_mode != "fixed" or len(changed) < len(assets):
        return None  # fresh seeds or the mask changed: every picture
    if total > MAX_LISTED_OUTCOMES:
        return None
    rule = variation_rule(show)
    stale = set()
    for faces in all_outcomes(d.count, d.faces):
        v = derive_variation(rule, Throw(faces))
        if v.painting in changed:
            stale.add(v.key)
    return frozenset(stale)


def asset_stamps(show: Show) -> dict[str, str]:
    """Content hash of each painting and the mask, by the path written in the show."""
    paths = list(show.artwork.paintings)
    if show.artwork.mask is not None:
        paths.append(show.artwork.mask)
    stamps = {}
    for p in paths:
        try:
            stamps[str(p)] = hashlib.sha256(show.resolve(p).read_bytes()).hexdigest()
        except (OSError, ValueError) as e:
            stamps[str(p)] = f"unreadable: {e}"
    return stamps


def overlay_text(error: ShowError, limit: int = 6) -> str:
    """The rehearsal overlay for an invalid save: what is wrong, where, and that nothing broke."""
    lines = [str(i) for i in error.issues[:limit]]
    if len(error.issues) > limit:
        lines.append(f"... and {len(error.issues) - limit} more (installation validate SHOW)")
    return "Show not reloaded - still showing the last good version:\n" + "\n".join(lines)


class ShowWatcher:
    """Watches a show folder in a thread; calls on_change(Show | ShowError) after each save.

    on_change runs in the watcher's thread: hand the result to the main loop (a queue),
    never touch the display from it. An unchanged good show is not reported again; a good
    show after an error always is (so the caller can clear its error overlay).
    `last_change` is the diff from the previous good show when on_change gets a Show.
    """

    def __init__(
        self,
        folder: Path | str,
        on_change: Callable[[Show | ShowError], None],
        *,
        initial: Show | None = None,
        quiet_ms: int = 300,
        max_wait_ms: int = 3000,
        wake_ms: int = 1000,
        force_polling: bool | None = None,
    ) -> None:
        self.folder, self.source = locate_show(folder)
        self.on_change = on_change
        self.quiet_ms, self.max_wait_ms, self.force_polling = quiet_ms, max_wait_ms, force_polling
        self.wake_ms = wake_ms
        self.armed = threading.Event()  # set once the folder is watched (within ~wake_ms)
        self.last_good: Show | None = initial
        self.last_assets: dict[str, str] = asset_stamps(initial) if initial else {}
        self.last_change: ShowChange | None = None
        self.last_error: ShowError | None = None
        self.reloads = self.errors = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # reload() runs from the watcher and from /reload

    def __repr__(self) -> str:
        state = "error" if self.last_error else "ok"
        return f"<ShowWatcher {self.folder} {state} reloads={self.reloads} errors={self.errors}>"

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="show-watcher", daemon=True)
            self._thread.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def relevant(self, path: str | Path) -> bool:
        """show.toml, the show's assets and image files; never storage or editor temp files."""
        p = Path(path)
        name = p.name
        if name.startswith((".", "#")) or name.endswith(("~", ".swp", ".tmp", ".part")):
            return False
        if self._in_storage(p):
            return False
        if name == self.source.name:
            return True
        if p.suffix.lower() in IMAGE_SUFFIXES:
            return True
        show = self.last_good
        return show is not None and any(_same(p, show.resolve(a)) for a in _asset_paths(show))

    def _in_storage(self, p: Path) -> bool:
        storage = (self.last_good.storage_dir if self.last_good else self.folder / "var").resolve()
        try:
            return p.resolve().is_relative_to(storage)
        except (OSError, ValueError):
            return False

    def reload(self) -> Show | ShowError | None:
        """Load now and report; None when a good show is unchanged (nothing reported).
        Safe to call from any thread (e.g. for /installation/reload)."""
        with self._lock:
            return self._reload()

    def _reload(self) -> Show | ShowError | None:
        try:
            show: Show | ShowError = load_show(self.source)
        except ShowError as e:
            show = e
        except Exception as e:  # never let a loader bug kill the watcher
            log.exception("show reload: unexpected error")
            show = ShowError([_issue(self.source, f"could not be loaded ({e!r})")])
        if isinstance(show, ShowError):
            self.errors += 1
            self.last_error = show
            log.warning("show reload refused; keeping the last good show:\n%s", show)
        else:
            assets = asset_stamps(show)
            change = diff_shows(
                self.last_good or show, show, old_assets=self.last_assets, new_assets=assets
            )
            if self.last_good is not None and not change.changed and self.last_error is None:
                return None
            self.last_good, self.last_assets, self.last_change = show, assets, change
            self.last_error = None
            self.reloads += 1
            log.info("show reloaded: %s", change.summary())
        try:
            self.on_change(show)
        except Exception:
            log.exception("show reload: the on_change callback failed")
        return show

    def _run(self) -> None:
        import watchfiles

        while not self._stop.is_set():
            try:
                for changes in watchfiles.watch(
                    self.folder,
                    watch_filter=lambda _c, path: self.relevant(path),
                    step=self.quiet_ms,
                    debounce=self.max_wait_ms,
                    stop_event=self._stop,
                    rust_timeout=self.wake_ms,
                    yield_on_timeout=True,  # an empty wake-up tells us the watch is set
                    raise_interrupt=False,
                    force_polling=self.force_polling,
                ):
                    self.armed.set()
                    if not changes:
                        continue
                    log.debug("show folder changed: %s", sorted(p for _, p in changes))
                    self.reload()
            except Exception as e:  # folder gone, too many watches ...: retry, never die
                log.error("show watcher on %s failed (%s); retrying in 5 s", self.folder, e)
                self._stop.wait(5.0)


def _asset_paths(show: Show) -> list[Path]:
    return [*show.artwork.paintings, *([show.artwork.mask] if show.artwork.mask else [])]


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except (OSError, ValueError):
        return False


def _issue(source: Path, message: str) -> Any:
    from installation.errors import ShowIssue

    return ShowIssue(str(source), None, "", message)
