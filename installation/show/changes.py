"""What a reloaded show changed, and THE table of what each key needs to apply.

diff_shows says what a good reload changed, sorted by what it takes to apply it: pictures
(and which outcomes' cache entries are stale), the generation worker, the display, live
settings, or a restart.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from installation.core.dice import Throw, all_outcomes, outcome_count
from installation.core.variations import derive_variation, render_prompt
from installation.show.schema import Show, variation_rule

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp"})
MAX_LISTED_OUTCOMES = 10_000  # above this, a prompt change marks every outcome stale

# What each key needs when it changes. Keys are "section.key" or a whole "section".
RENDER = (
    "variations",
    "artwork",
    "engine.device",
    "engine.tiny_vae",
    "engine.compile",
    "upscale",
)
ENGINE = (
    "variations.engine",
    "variations.model",
    "variations.model_config_dir",
    "artwork",
    "engine",
    "safety.checker",
    "safety.required",
    "upscale",
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
# The running app keeps its values for these (running_values below), the kiosk keeps its
# window (restart_keys("display")) and diff_shows names them: one table for all three.
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
    "display.fullscreen",
    "display.display",
    "display.window_size",
    "display.rotation",
    "screens",
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
    pictures: tuple[str, ...] = ()  # display-only files whose content changed (the poster)

    @property
    def changed(self) -> bool:
        return bool(self.keys or self.assets or self.pictures)

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
        parts = [f"changed {', '.join(self.keys + self.assets + self.pictures)}"]
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
    files = _changed_assets(old_assets or {}, new_assets or {})
    art = {str(p) for p in _artwork_files(new)}  # what renders read; the rest is display's
    assets = tuple(f for f in files if f in art)
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
        pictures=tuple(f for f in files if f not in art),
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


def _artwork_files(show: Show) -> list[Path]:
    """The files renders read: the paintings and the mask."""
    return [*show.artwork.paintings, *([show.artwork.mask] if show.artwork.mask else [])]


def stamped_files(show: Show) -> list[Path]:
    """The files whose content is part of the show: the artwork and the standby poster."""
    poster = show.display.standby_image
    return [*_artwork_files(show), *([poster] if poster is not None else [])]


def asset_stamps(show: Show) -> dict[str, str]:
    """Content hash of each painting, the mask and the standby poster, by the path written
    in the show: a file saved over in place is a change (a repainted painting needs new
    pictures and a new worker; a new poster only needs reading again)."""
    stamps = {}
    for p in stamped_files(show):
        try:
            stamps[str(p)] = hashlib.sha256(show.resolve(p).read_bytes()).hexdigest()
        except (OSError, ValueError) as e:
            stamps[str(p)] = f"unreadable: {e}"
    return stamps


def restart_keys(section: str) -> tuple[str, ...]:
    """The keys of one section that apply only on restart ('display' -> 'fullscreen', ...)."""
    return tuple(k.split(".", 1)[1] for k in RESTART if k.startswith(section + "."))


def running_values(running: Show, new: Show) -> Show:
    """`new` with every restart-only setting kept as it runs (the RESTART table): a reload
    applies the rest. The seed mode decides what the persisted count means, so switching it
    live would restart the fresh count; the folder and source stay those of the running show."""
    update: dict[str, Any] = {"folder": running.folder, "source": running.source}
    for key in RESTART:
        section, _, name = key.partition(".")
        if not name:
            update[section] = getattr(running, section)
    for section in {k.split(".", 1)[0] for k in RESTART if "." in k}:
        names = restart_keys(section)
        kept = {n: getattr(getattr(running, section), n) for n in names}
        update[section] = getattr(new, section).model_copy(update=kept)
    return new.model_copy(update=update)
