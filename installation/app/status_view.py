"""The running show's health as the status board and /installation/status see it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from installation.cache.cached_worker import CachedWorker

if TYPE_CHECKING:
    from installation.app.app import App
    from installation.core.events import LinkStatus
    from installation.ops.status import StatusBoard


def link_status(status: StatusBoard, event: LinkStatus) -> None:
    """An edge's own report: its section, and a disconnect among the status's errors (the
    link logged it once already; the board keeps the last of each kind for technicians)."""
    status.set_section(event.name, event.info)
    gone = event.info.get("last_disconnect")
    if not event.info.get("connected") and isinstance(gone, dict):
        status.error(event.name, f"{event.name} disconnected: {gone.get('reason', '?')}")


def sections(app: App) -> dict[str, Mapping[str, Any]]:
    """Per-part health: worker, display, app counters, cues, cache, archive, each edge."""
    out: dict[str, Mapping[str, Any]] = {
        "worker": app.worker.health(),
        "display": app.kiosk.stats(),
        "app": {"counters": dict(app.counters), "inbox": app.inbox.counters()},
    }
    if app.cues is not None:
        out["cues"] = app.cues.stats()
    if isinstance(app.worker, CachedWorker):
        out["cache"] = app.worker.stats()
    if app.archive is not None:
        out["archive"] = app.archive.stats()
    if app.presenter.last_trace is not None:  # where the newest live image spent its time
        out["last_image"] = app.presenter.last_trace.summary()
    out["hours"] = app.hours.status()
    for name, edge in app.edges.items():
        out[name] = edge.status()
    return out


def snapshot(app: App) -> dict[str, Any]:
    """The status as plain data (also the /installation/status reply)."""
    if app.status is not None:
        return dict(app.status.snapshot())
    last = app.director.shown
    return {
        "show": app.show.show.name,
        "state": app.state_name(),
        "engine": app.worker.engine_name,
        "uptime_s": round(app.clock() - app.started_at, 1),
        "last_throw": list(app.director.last_throw.faces) if app.director.last_throw else None,
        "last_variation": None
        if last is None
        else {"number": last.number, "seed": last.seed, "key": last.key},
        "counters": dict(app.counters),
    }
