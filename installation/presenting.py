"""From an arrived image to the wall, for the App (frame thread, never waits).

A present may be held back: by the largest cue lead (so cue receivers told in
advance act on the very frame the image appears) and, for a fresh-mode count this
node persisted, until that count is on disk. Then the picture goes up with its
label, and the archive, the status and the log learn of it.
"""

from __future__ import annotations

import logging
from typing import Any

from installation.core.variations import Variation

log = logging.getLogger("installation.app")

DURABLE_WAIT_S = 2.0  # a hung disk holds a picture back at most this long


def present(app: Any, result: Any, now: float) -> None:
    app._shown_at = app.wall() + app.cue_lead_s
    app._timed.append((now + app.cue_lead_s, result))
    present_due(app, now)


def present_due(app: Any, now: float) -> None:
    """Show held presents whose moment has come (monotonic clock: a wall-clock step
    must not hold a picture back) and, for a count this node persisted (fresh mode),
    once that count is on disk - or after DURABLE_WAIT_S, with a fault, if the disk
    hangs: the wall must not freeze for the sake of the count."""
    progress = app.progress
    if progress is not None:
        for error in progress.take_errors():
            app.fault("state-write", error)
    while app._timed and app._timed[0][0] <= now:
        due, result = app._timed[0]
        count = result.variation.number
        if progress is not None and count in app._unsettled:
            if count > progress.settled:
                if now - due < DURABLE_WAIT_S:
                    return  # its count is being written; a frame or two
                app.fault("state-write", f"count {count} not on disk after {DURABLE_WAIT_S} s")
            app._unsettled.discard(count)
        app._timed.pop(0)
        show_now(app, result, now)


def show_now(app: Any, result: Any, now: float) -> None:
    """The picture goes on the wall; the archive gets it with how it was made."""
    variation, image, engine = result.variation, result.image, result.engine
    app.kiosk.present(image, label_for(app, variation, engine))
    if app.archive is not None:
        describe = dict(getattr(result, "describe", None) or {})
        app.archive.save(image, variation, engine=engine, describe=describe)
    app._presented_at = now
    app.presented.append(variation)
    del app.presented[:-100]
    started, app._throw_started = app._throw_started, None
    if app.status is not None:
        if started is not None:
            app.status.record_latency((now - started) * 1000.0)
        app.status.record_variation(
            number=variation.number,
            seed=variation.seed,
            key=variation.key,
            faces=list(variation.faces),
            engine=engine,
            prompt=variation.prompt,
        )
    log.info(
        "variation %d (%s, seed %d) shown, engine %s",
        variation.number,
        variation.key,
        variation.seed,
        engine,
    )
    if app.options.screenshot_dir is not None:
        app._pending_screenshot = f"variation-{variation.number:05d}-{variation.key}.png"


def label_for(app: Any, variation: Variation, engine: str) -> Any:
    """The wall label: the show's template filled for this variation (None: no label)."""
    show = app.show
    if not show.display.label:
        return None
    from installation.display.label import LabelInfo

    fields = {
        "number": variation.number,
        "seed": variation.seed,
        "faces": " ".join(str(f) for f in variation.faces),
        "title": show.show.title,
        "artist": show.show.artist,
        "engine": engine,
    }
    try:
        text = show.display.label_template.format(**fields)
    except (KeyError, IndexError, ValueError) as e:  # the loader rejects these; belt and braces
        text = f"Variation {variation.number} · seed {variation.seed}"
        app.fault("label-template", str(e))
    return LabelInfo(faces=variation.faces, text=text)


def maybe_screenshot(app: Any, now: float) -> None:
    """--screenshot-dir: once the crossfade has finished, so the file shows the wall."""
    shot_dir = app.options.screenshot_dir
    if not app._pending_screenshot or shot_dir is None:
        return
    faded = now - app._presented_at >= app.show.display.transition_ms / 1000.0
    if faded and app.kiosk.settled():
        shot_dir.mkdir(parents=True, exist_ok=True)
        app.kiosk.screenshot(shot_dir / app._pending_screenshot)
        app._pending_screenshot = None
