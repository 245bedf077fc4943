"""From an arrived image to the wall (frame thread, never waits).

A present may be held back: by the largest cue lead (so cue receivers told in
advance act on the very frame the image appears), for a fresh-mode count this
node persisted until that count is on disk, and until the archive has the picture
in its journal on disk (so a kill -9 never loses a shown picture). Then the picture
goes up with its label, and the status and the log learn of it. A present that waits has
its slide painted meanwhile (Screen.prepare), once the journal has begun writing it: so
the disk's part of the wait and the painting overlap and the picture goes up on the frame
it is released, while the journal thread's own Python work before the write does not wait
for the GIL behind the painter (pygame's fills and blits hold it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from installation.app import pictures
from installation.app.contracts import ArchiveOut, Journaled, Screen, Status
from installation.core.variations import Variation
from installation.display.label import LabelInfo, fill_label
from installation.show.schema import Show
from installation.worker.trace import Trace, stamp

if TYPE_CHECKING:
    from installation.storage.state import CountWriter
    from installation.worker.replies import Result

log = logging.getLogger("installation.app")

DURABLE_WAIT_S = 2.0  # a hung disk holds a picture back at most this long (count, journal)
KEEP_PRESENTED = 100


def cue_lead_s(show: Show) -> float:
    """How far ahead of the picture cues go out: the largest immediate target's lead."""
    leads = [t.lead_ms for t in show.osc.targets if t.mode == "immediate"]
    return max(leads, default=0) / 1000.0


@dataclass
class Waiting:
    """A present waiting for the disk: its count (fresh mode) and its journal entry."""

    asked: float
    result: Result
    ticket: Journaled | None
    label: LabelInfo | None
    painting: bool = False  # its slide asked for ahead (Screen.prepare)


class Presenter:
    """Owns what is on its way to the wall: held presents, counts not yet on disk, the
    throw→screen timer, the screenshot to take and the list of what was shown."""

    def __init__(
        self,
        show: Show,
        screen: Screen,
        *,
        fault: Callable[[str, str], None],
        wall: Callable[[], float],
        archive: ArchiveOut | None = None,
        status: Status | None = None,
        counts: CountWriter | None = None,
        lead_s: float = 0.0,
        screenshot_dir: Path | None = None,
    ) -> None:
        self.show = show
        self.screen = screen
        self.archive = archive
        self.status = status
        self.counts = counts  # fresh mode: the count writer this node persists through
        self.lead_s = lead_s
        self.screenshot_dir = screenshot_dir
        self._fault = fault
        self._wall = wall
        self._durable: list[Waiting] = []  # count and picture on disk yet?
        self._held: list[tuple[float, Result, LabelInfo | None]] = []  # (due, ...): cue lead
        self.on_release: Callable[[Variation, float], None] | None = None  # the shown cue
        self._unsettled: set[int] = set()  # counts persisted here, not yet on disk
        self._throw_started: float | None = None
        self._presented_at = 0.0
        self._pending_screenshot: str | None = None
        self.shown_at = 0.0  # wall time the newest present goes up (the `shown` cue's time)
        self.presented: list[Variation] = []
        self._paintings: dict[int, np.ndarray] = {}  # painting index -> image, for screens
        self._pictures = pictures.PictureLoader()  # a reloaded show's pictures, off-thread
        self.last_trace: Trace | None = None  # the newest shown image the worker child made

    def __repr__(self) -> str:
        return f"<Presenter durable={len(self._durable)} held={len(self._held)}>"

    def dress(self, state: str) -> None:
        """The opened screen gets the painting (attract), the standby poster and its state
        (read now: start-up, before the first frame)."""
        self._put_up(pictures.read(self.show))
        self.screen.set_state(state)

    def redress(self) -> None:
        """The painting (attract) and the standby poster of the show now running: after a
        live swap of the painting, attract and standby show the new one once it is read
        (pictures.py, off the frame thread; due() puts it up)."""
        self._pictures.request(self.show)

    def _put_up(self, read: pictures.Pictures) -> None:
        for kind, message in read.faults:
            self._fault(kind, message)
        self._paintings = dict(read.paintings)
        self.screen.set_artwork(read.artwork)
        self.screen.set_poster(read.poster)

    # -- inputs -----------------------------------------------------------------------
    def throw_started(self, now: float) -> None:
        """A throw began (a newer one supersedes: one start time, not a map)."""
        self._throw_started = now

    def persist(self, count: int, repeats: dict[str, int]) -> None:
        """Fresh mode: hand the count to the writer; its variation waits for the write."""
        if self.counts is None:
            self._fault("state-write", f"count {count} not persisted: no state store")
            return
        self._unsettled = {n for n in self._unsettled if n > self.counts.settled}
        self._unsettled.add(count)
        self.counts.submit(count, repeats)

    def present(self, result: Result, now: float) -> None:
        """Put a picture on its way: first its count (fresh mode) and the picture itself
        (the archive's journal) on disk, then the cue lead, then the wall."""
        if result.trace is not None:
            result.trace.presented = stamp()
        ticket = None
        if self.archive is not None:
            describe = dict(result.describe)
            ticket = self.archive.save(
                result.image,
                result.variation,
                engine=result.engine,
                describe=describe,
                source=result.source,
            )
        label = self.label_for(result.variation, result.engine)
        self._durable.append(Waiting(now, result, ticket, label))
        self.due(now)

    # -- each frame ---------------------------------------------------------------------
    def due(self, now: float) -> None:
        """Release presents whose count is on disk (fresh mode, a count this node persisted)
        and whose picture is in the archive's journal - or after DURABLE_WAIT_S, with a
        fault, if the disk hangs: the wall must not freeze for the sake of either. A
        released present sends its `shown` cue (on_release) timed to the moment it goes
        up, `lead_s` later: so receivers never fire before the picture, however long the
        writes took. Then show those whose moment has come
        (monotonic clock: a wall-clock step must not hold a picture back)."""
        if (read := self._pictures.take()) is not None:
            self._put_up(read)
        counts = self.counts
        if counts is not None:
            for error in counts.take_errors():
                self._fault("state-write", error)
        for w in self._durable:  # painted while the disk writes (not before: see above)
            if not w.painting and (w.ticket is None or w.ticket.writing):
                journal_waits = w.ticket is not None and not w.ticket.settled
                if journal_waits or self._count_waits(w.result) or self.lead_s > 0:
                    w.painting = True
                    self.screen.prepare(w.result.image, w.label)
        while self._durable:
            w = self._durable[0]
            result, label, count = w.result, w.label, w.result.variation.number
            count_waits = self._count_waits(result)
            journal_waits = w.ticket is not None and not w.ticket.settled
            if (count_waits or journal_waits) and now - w.asked < DURABLE_WAIT_S:
                break  # being written; a frame or two
            if count_waits:
                self._fault("state-write", f"count {count} not on disk after {DURABLE_WAIT_S} s")
            if journal_waits:
                self._fault(
                    "archive", f"variation {count} not in the archive after {DURABLE_WAIT_S} s"
                )
            self._unsettled.discard(count)
            self._durable.pop(0)
            self.shown_at = self._wall() + self.lead_s
            self._held.append((now + self.lead_s, result, label))
            if self.on_release is not None:
                self.on_release(result.variation, self.shown_at)
        while self._held and self._held[0][0] <= now:
            _, result, label = self._held.pop(0)
            self._show(result, now, label)

    def _count_waits(self, result: Result) -> bool:
        """Fresh mode: a count this node persisted is not on disk yet."""
        count = result.variation.number
        counts = self.counts
        return counts is not None and count in self._unsettled and count > counts.settled

    def after_frame(self, now: float) -> None:
        """--screenshot-dir: once the crossfade has finished, so the file shows the wall."""
        if not self._pending_screenshot or self.screenshot_dir is None:
            return
        faded = now - self._presented_at >= self.show.display.transition_ms / 1000.0
        if faded and self.screen.settled():
            self.screenshot_dir.mkdir(parents=True, exist_ok=True)
            self.screen.screenshot(self.screenshot_dir / self._pending_screenshot)
            self._pending_screenshot = None

    # -- the picture goes up --------------------------------------------------------------
    def _show(self, result: Result, now: float, label: LabelInfo | None) -> None:
        """The picture goes on the wall; the archive gets it with how it was made."""
        variation, image, engine = result.variation, result.image, result.engine
        if result.trace is not None:
            result.trace.shown = stamp()
            self.last_trace = result.trace
        self.screen.present(image, label, self.painting_for(variation))
        self._presented_at = now
        self.presented.append(variation)
        del self.presented[:-KEEP_PRESENTED]
        started, self._throw_started = self._throw_started, None
        if self.status is not None:
            if started is not None:
                self.status.record_latency((now - started) * 1000.0)
            self.status.record_variation(
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
        if self.screenshot_dir is not None:
            self._pending_screenshot = f"variation-{variation.number:05d}-{variation.key}.png"

    def painting_for(self, variation: Variation) -> np.ndarray | None:
        """The source painting of `variation`, when a screen shows paintings ([[screens]]
        with content painting or previous): read with the show's pictures (pictures.py);
        one beyond KEEP_PAINTINGS is read here when first needed."""
        paintings = self.show.artwork.paintings
        if not paintings or all(s.content == "variation" for s in self.show.screens):
            return None
        index = variation.painting % len(paintings)
        if index not in self._paintings:
            from installation.engines.images import load_rgb

            try:
                image = load_rgb(self.show.resolve(paintings[index]))
            except Exception as e:  # removed since the show loaded: the screen keeps its picture
                self._fault("artwork", f"cannot read {paintings[index]}: {e}")
                return None
            if len(self._paintings) >= pictures.KEEP_PAINTINGS:
                self._paintings.pop(next(iter(self._paintings)))
            self._paintings[index] = image
        return self._paintings[index]

    def label_for(self, variation: Variation, engine: str) -> LabelInfo | None:
        """The wall label: the show's template filled for this variation (None: no label)."""
        info, error = fill_label(self.show, variation, engine)
        if error is not None:
            self._fault("label-template", error)
        return info
