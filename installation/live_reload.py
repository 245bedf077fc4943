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
RESTART_DISPLAY_KEYS = ("fullscreen", "display", "window_size", "rehearsal_keys")


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
    app.kiosk.config = new.display.model_copy(
        update={k: getattr(running, k) for k in RESTART_DISPLAY_KEYS}
    )
    _refresh_prefill(app, new)
    if change is None or change.needs_new_worker:
        _new_worker(app, new)
    app.kiosk.set_overlay(None)


def _keep_running_values(old: Show, new: Show) -> Show:
    """Restart-only settings stay as they run; everything else comes from the new file."""
    osc = new.osc.model_copy(
        update={"listen": old.osc.listen, "allow": old.osc.allow, "reply_port": old.osc.reply_port}
    )
    display = new.display.model_copy(
        update={k: getattr(old.display, k) for k in RESTART_DISPLAY_KEYS}
    )
    return new.model_copy(
        update={
            "dice": old.dice,
            "storage": old.storage,
            "cluster": old.cluster,
            "osc": osc,
            "display": display,
            "folder": old.folder,
            "source": old.source,
        }
    )


def _refresh_prefill(app: Any, show: Show) -> None:
    """The cache's background plan follows the new rule; stale entries simply miss,
    since cache keys hash the prompt, parameters, paintings and model."""
    if not hasattr(app.worker, "prefill") or not show.cache.prerender:
        return
    from installation.generate.prerender import prefill_for

    rule = variation_rule(show)
    budget = app.worker.cache.capacity(rule.params)
    app.worker.prefill = prefill_for(rule, show.dice.count, budget, app.director.next_variation)


def _new_worker(app: Any, show: Show) -> None:
    """A new model, painting or engine setting: a fresh worker; its fallback covers the gap."""
    if app.make_worker is None:
        log.warning("show reloaded: engine changes apply on restart")
        return
    old = app.worker
    app.worker = app.make_worker(show)
    app.worker.start()
    try:
        old.stop()
    except Exception:  # the old worker may already be dead; the new one is what matters
        log.exception("stopping the previous worker")
