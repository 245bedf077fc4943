"""Applying a reloaded show to the running app (rehearsal saves and /installation/reload).

Only a valid show swaps in; an invalid save keeps the last good one, is logged with
file:line, and in rehearsal mode appears as an overlay on the wall. Keys that need a
restart (dice, storage, cluster, the control address, the window) keep their running
values and are named in the log.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from typing import Any

from installation.errors import ShowError
from installation.show.schema import Show, variation_rule

log = logging.getLogger("installation.reload")

# the window itself is opened once; these apply on the next start
RESTART_DISPLAY_KEYS = ("fullscreen", "display", "window_size", "rehearsal_keys", "standby_image")


def reload_in_background(watcher: Any) -> None:
    """/installation/reload: read and hash files off the main thread; the result comes
    back through the inbox like a rehearsal save."""
    threading.Thread(target=watcher.reload, name="show-reload", daemon=True).start()


def apply_reload(app: Any, result: Show | ShowError, change: Any) -> None:
    if isinstance(result, ShowError):
        first = result.issues[0] if result.issues else "unknown problem"
        app.fault("show-invalid", f"show not reloaded, still the last good one: {first}")
        if app.options.rehearsal:
            from installation.show.reload import overlay_text

            app.kiosk.set_overlay(overlay_text(result))
        return
    if change is not None and not change.changed:
        app.kiosk.set_overlay(None)
        return
    new = _keep_running_values(app.show, result)
    running = app.kiosk.config  # may differ from the file: --window, --rehearsal
    if change is not None:
        log.info("show reloaded: %s", change.summary())
        if change.needs_restart:
            log.warning("show reloaded: restart the kiosk to apply %s", ", ".join(change.restart))
    app.show = new
    app.rule = app.director.rule = variation_rule(new)
    app.director.config = dataclasses.replace(
        app.director.config,
        attract_after_s=new.display.attract_after_s,
        give_up_after_s=2 * new.engine.worker_timeout_s + 30,
    )
    app.schedule = new.schedule.build() if new.schedule else type(app.schedule).always_open()
    display = new.display.model_copy(update={k: getattr(running, k) for k in RESTART_DISPLAY_KEYS})
    if hasattr(app.kiosk, "configure"):
        app.kiosk.configure(display, title=new.show.title, artist=new.show.artist)
    else:
        app.kiosk.config = display
    for edge in app.edges:  # projectors follow the new hours
        if hasattr(edge, "schedule"):
            edge.schedule = app.schedule
    _refresh_prefill(app, new)
    keys = set(change.keys) if change is not None else {"osc.targets"}
    if change is None or change.needs_new_worker:
        _rebuild(app, "worker", lambda: app.make_worker(new) if app.make_worker else None)
    if keys & {"osc.targets", "osc.heartbeat_s"} and app.make_cues is not None:
        _rebuild(app, "cues", lambda: app.make_cues(new))
    app.kiosk.set_overlay(None)


def _keep_running_values(old: Show, new: Show) -> Show:
    """Restart-only settings stay as they run; everything else comes from the new file."""
    osc = new.osc.model_copy(
        update={"listen": old.osc.listen, "allow": old.osc.allow, "reply_port": old.osc.reply_port}
    )
    display = new.display.model_copy(
        update={k: getattr(old.display, k) for k in RESTART_DISPLAY_KEYS}
    )
    # the seed mode decides what the persisted count means: switching it live would restart
    # the fresh count (or leave a fixed show waiting on one), so it applies on restart
    variations = new.variations.model_copy(update={"seed_mode": old.variations.seed_mode})
    return new.model_copy(
        update={
            "dice": old.dice,
            "storage": old.storage,
            "cluster": old.cluster,
            "osc": osc,
            "display": display,
            "variations": variations,
            "folder": old.folder,
            "source": old.source,
        }
    )


def _refresh_prefill(app: Any, show: Show) -> None:
    """The cache's background plan follows the new rule; stale entries simply miss,
    since cache keys hash the prompt, parameters, paintings and model."""
    if not hasattr(app.worker, "prefill") or not show.cache.prerender:
        return
    from installation.cache.prefill import prefill_for

    rule = variation_rule(show)
    budget = app.worker.cache.capacity(rule.params)
    prefill = prefill_for(rule, show.dice.count, budget, app.director.next_variation)
    if hasattr(app.worker, "set_prefill"):
        app.worker.set_prefill(prefill)
    else:
        app.worker.prefill = prefill


def _rebuild(app: Any, name: str, build: Any) -> None:
    """Build and start a new part in a thread (a model load, a cache scan, sockets); the
    frame loop swaps it in when PartReady arrives and stops the old one off-thread."""
    from installation.core.events import Fault, PartReady

    generation = app.rebuilds[name] = app.rebuilds.get(name, 0) + 1

    def run() -> None:
        try:
            part = build()
            if part is None and name == "worker":
                log.warning("show reloaded: engine changes apply on restart")
                return
            if part is not None:  # cues: None means the new show has no targets
                part.start()
        except Exception as e:  # the running part stays; the reload is reported
            log.exception("show reloaded: the new %s did not start", name)
            app.inbox.put(Fault("reload", f"the new {name} did not start ({e}); kept the old one"))
            return
        app.inbox.put(PartReady(name, part, generation))

    threading.Thread(target=run, name=f"reload-{name}", daemon=True).start()


def swap_part(app: Any, name: str, part: Any, generation: int = 0) -> None:
    """On the frame thread: take the new part, re-ask for what the wall waits on, stop the
    old part in the background (a worker may take seconds to exit). A part from an older
    reload than the newest asked for is stopped instead: saves in quick succession must
    end with the last one's part, whichever thread finished first."""
    if generation and generation < app.rebuilds.get(name, 0):
        if part is not None:
            threading.Thread(target=_stop_quietly, args=(part,), daemon=True).start()
        return
    old = getattr(app, name)
    setattr(app, name, part)
    if name == "worker":
        _refresh_prefill(app, app.show)  # the plan of the show now running, not the build's
        if app.director.pending is not None:
            part.request(app.director.pending)
    if old is not None:
        threading.Thread(target=_stop_quietly, args=(old,), daemon=True).start()


def _stop_quietly(part: Any) -> None:
    try:
        part.stop()
    except Exception:  # the old part may already be dead; the new one is what matters
        log.exception("stopping the replaced %s", type(part).__name__)
