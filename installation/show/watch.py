"""Live reload: watch the show folder, load every save, report a good Show or its ShowError.

Editors replace files on save, which loses a watch on the file itself, so the FOLDER is
watched (watchfiles) and events are filtered to show.toml and the show's assets
(paintings, mask, any image file); the storage folder (cache, archive, state) and editor
temp files are ignored. watchfiles' `step` is the quiet period: a burst of writes (write,
rename, touch) becomes one reload. An invalid save is reported as the ShowError (every
issue with file:line) and the caller keeps its last good show.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from installation.errors import ShowError
from installation.show.changes import (
    IMAGE_SUFFIXES,
    ShowChange,
    asset_stamps,
    diff_shows,
    stamped_files,
)
from installation.show.curation import CURATION_FILE
from installation.show.load import load_show, locate_show
from installation.show.schema import Show

log = logging.getLogger("installation.show.reload")


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

    def status(self) -> dict[str, Any]:
        """The status section: reloads applied and refused, and the last refusal."""
        error = self.last_error.issues[0] if self.last_error and self.last_error.issues else None
        return {
            "reloads": self.reloads,
            "refused": self.errors,
            "last_error": str(error) if error else None,
        }

    def relevant(self, path: str | Path) -> bool:
        """show.toml, the show's assets and image files; never storage or editor temp files."""
        p = Path(path)
        name = p.name
        if name.startswith((".", "#")) or name.endswith(("~", ".swp", ".tmp", ".part")):
            return False
        if self._in_storage(p):
            return False
        if name in (self.source.name, CURATION_FILE):
            return True
        if p.suffix.lower() in IMAGE_SUFFIXES:
            return True
        show = self.last_good
        return show is not None and any(_same(p, show.resolve(a)) for a in stamped_files(show))

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


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except (OSError, ValueError):
        return False


def _issue(source: Path, message: str) -> Any:
    from installation.errors import ShowIssue

    return ShowIssue(str(source), None, "", message)
