"""Slides: screen-sized pictures (fitted, letterboxed, labelled) painted off the main thread.

Scaling a 1024² picture to 1080p costs 20-30 ms and to 4K 45-90 ms: on the main
thread that is several dropped frames exactly as a crossfade starts. So one worker
thread paints each slide and the kiosk's frame() only picks the finished surface up.

Only software surfaces are touched here, never the display. What runs in parallel
with the main thread (measured with pygame-ce 2.5.8, and read in its source):
`transform.smoothscale` releases the GIL around the filter, and numpy releases it
for the strided copy into the source surface. Surface.blit and font rendering hold
the GIL (so they are serialised with the main thread, hence safe, but they would
stall it); the only blits here are the small label band and, for odd screen
formats, the picture itself. The slide is made in the display's pixel format, so
the main thread neither converts nor copies it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pygame

from installation.display import label as wall
from installation.display.canvas import BLANK_AFTER_S, Canvases, Slide
from installation.display.label import LabelInfo, LabelStyle
from installation.display.transitions import fit_picture
from installation.display.turn import Turn
from installation.show.schema import DisplaySection

log = logging.getLogger(__name__)
# pygame loads surfarray lazily (importlib's LazyLoader), which is not thread-safe before
# Python 3.12: two painters (a Wall's windows) touching it first at once can see a
# half-loaded module. Load it here, on the importing thread.
_PIXELS3D = pygame.surfarray.pixels3d


@dataclass(frozen=True)
class SlideStyle:
    """Everything a slide's look depends on besides the picture; captured on the main thread."""

    size: tuple[int, int]
    depth: int  # the display's bits per pixel and masks: the slide is made in that format
    masks: tuple[int, int, int, int]
    fit: str
    background: tuple[int, int, int]
    label: bool
    title: str
    artist: str
    label_style: LabelStyle = field(default_factory=LabelStyle)
    rotation: int = 0  # degrees clockwise; `size` is the window's, before turning
    upscale: str = "smooth"  # smooth (pygame's smoothscale) | lanczos (Lanczos + sharpening)


@dataclass(frozen=True, eq=False)
class SlideJob:
    """One slide to paint. `slot` is what it replaces ('artwork' or 'last'); `kind` says how the
    kiosk shows it ('artwork', 'present' or 'restyle'); `state_seq` is the kiosk's set_state count
    when it was asked for, so the kiosk knows whether the state changed meanwhile."""

    slot: str
    kind: str
    image: np.ndarray  # HxWx3 uint8, validated
    label: LabelInfo | None
    credit: bool
    style: SlideStyle
    state_seq: int = 0


def style_for(
    config: DisplaySection,
    screen: pygame.Surface,
    background: pygame.Color,
    title: str,
    artist: str,
) -> SlideStyle:
    """The look of slides for `screen` (its pixel format) under a [display] config."""
    masks = screen.get_masks()
    font = str(config.label_font) if config.label_font else None
    return SlideStyle(
        screen.get_size(),
        screen.get_bitsize(),
        (masks[0], masks[1], masks[2], masks[3]),
        config.fit,
        (background.r, background.g, background.b),
        config.label,
        title,
        artist,
        LabelStyle(config.label_corner, config.label_size, font),
        config.rotation,
        config.upscale,
    )


def render_slide(job: SlideJob, canvases: Canvases | None = None) -> pygame.Surface:
    """The picture fitted once (smoothscale or Lanczos), the letterbox and the wall label, as
    one surface; laid out upright and then turned for a screen mounted sideways. On a
    blank canvas made ahead of this look, if `canvases` has one (canvas.py)."""
    style = job.style
    turn = Turn(style.rotation, style.size)
    upright = turn.upright
    h, w = job.image.shape[:2]
    fit = fit_picture((w, h), upright, style.fit)
    x, y, cw, ch = fit.crop
    blank = (upright, style.depth, style.masks, style.background)
    slide = canvases.take(blank) if canvases is not None else None
    if slide is None:
        slide = Slide(upright, 0, style.depth, style.masks)
        if fit.size != upright:
            slide.fill(style.background)
    content = [pygame.Rect(fit.pos, fit.size)]
    crop = job.image[y : y + ch, x : x + cw]
    if style.upscale == "lanczos" and fit.size[0] > cw:
        crop = sharpened(crop, fit.size)
    _paint_picture(slide, crop, fit.size, fit.pos)
    if style.label and (job.label is not None or job.credit):
        look = style.label_style
        band = wall.render_label(job.label, style.title, style.artist, upright, look)
        if band is not None:
            where = wall.label_position(band, upright, look.corner)
            slide.blit(band, where)
            content.append(band.get_rect(topleft=where))
    if style.rotation == 0:  # a turned slide is a plain surface again: faded whole
        slide.background, slide.content = style.background, tuple(content)
    return turn.surface(slide)


def sharpened(crop: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """`crop` enlarged to `size` with Lanczos and a mild unsharp mask: a 512 px picture on a
    1080 px screen reads crisper than with smoothscale's bilinear filter (cost: bench/)."""
    from PIL import Image, ImageFilter

    image = Image.fromarray(np.ascontiguousarray(crop), "RGB").resize(
        size, Image.Resampling.LANCZOS
    )
    image = image.filter(ImageFilter.UnsharpMask(radius=1.5, percent=60, threshold=2))
    return np.asarray(image, np.uint8)


def _paint_picture(
    slide: pygame.Surface, crop: np.ndarray, size: tuple[int, int], pos: tuple[int, int]
) -> None:
    """Scale `crop` straight into the slide: in the slide's own 32-bit format smoothscale can
    write into a subsurface, so no screen-sized blit holds the GIL."""
    ch, cw = crop.shape[:2]
    if slide.get_bytesize() == 4 and _byte_aligned(slide):
        source = pygame.Surface((cw, ch), 0, slide)
        view = pygame.surfarray.pixels3d(source).swapaxes(0, 1)  # HxWx3 RGB, any byte order
        for c in range(3):  # one plain strided copy per channel: 4x faster than all at once
            view[..., c] = crop[..., c]
        del view  # unlocks the surface
        pygame.transform.smoothscale(source, size, slide.subsurface((pos, size)))
        return
    picture = pygame.image.frombuffer(np.ascontiguousarray(crop).tobytes(), (cw, ch), "RGB")
    slide.blit(pygame.transform.smoothscale(picture, size), pos)


def _byte_aligned(surface: pygame.Surface) -> bool:
    """pixels3d needs each of R, G, B to be one whole byte."""
    return all(m in (0xFF, 0xFF00, 0xFF0000, 0xFF000000) for m in surface.get_masks()[:3])


PREPARED_MB = 320  # slides painted ahead, newest kept: 38 at 1920x1080, 9 at 3840x2160


class PreparedSlides:
    """Slides painted ahead of time for pictures that may be presented next (cached
    outcomes), within PREPARED_MB; the oldest asked for go first. Main thread only."""

    def __init__(self, budget_mb: int = PREPARED_MB) -> None:
        self.budget = budget_mb * 2**20
        self._slides: dict[str, tuple[SlideJob, pygame.Surface | None]] = {}
        self.used = 0  # presents that found their slide here

    def clear(self) -> None:
        self._slides.clear()

    def images(self) -> list[np.ndarray]:
        """The pictures kept (painted or asked for), the oldest first."""
        return [job.image for job, _ in self._slides.values()]

    def want(
        self, image: np.ndarray, label: LabelInfo | None, style: SlideStyle
    ) -> SlideJob | None:
        """The job to paint, or None when this picture is known in this style already."""
        slot = f"prepare:{id(image)}:{hash(label)}"
        known = self._slides.get(slot)
        if known is not None and known[0].image is image and known[0].style == style:
            return None
        if self._same(image, label, style) is not None:  # other array, same pixels
            return None
        job = SlideJob(slot, "prepare", image, label, label is not None, style)
        self._slides[slot] = (job, None)
        w, h = style.size
        while len(self._slides) * w * h * 4 > self.budget:
            del self._slides[next(iter(self._slides))]
        return job

    def ask(
        self,
        painter: SlidePainter,
        rgb: np.ndarray,
        image: np.ndarray,
        label: LabelInfo | None,
        style: SlideStyle,
    ) -> None:
        """Have `painter` paint it when idle, unless known. `image` is the caller's array, kept
        when it is RGB already (`rgb` a view of it): the same array next time is known."""
        job = self.want(image if rgb.shape == image.shape else rgb, label, style)
        if job is not None:
            painter.submit(job)

    def done(self, job: SlideJob, slide: pygame.Surface | None) -> bool:
        """Keep a finished prepared slide; False for any other kind of job."""
        if job.kind != "prepare":
            return False
        if slide is not None and self._slides.get(job.slot, (None,))[0] is job:
            self._slides[job.slot] = (job, slide)
        return True

    def pending(
        self, image: np.ndarray, label: LabelInfo | None, style: SlideStyle
    ) -> SlideJob | None:
        """The job painting this picture (same array or same pixels), label and look ahead
        of time and not finished yet: a present can wait for it instead of painting again."""
        same = self._same(image, label, style)
        return same[0] if same is not None and same[1] is None else None

    def _same(
        self, image: np.ndarray, label: LabelInfo | None, style: SlideStyle
    ) -> tuple[SlideJob, pygame.Surface | None] | None:
        """The kept entry for this picture (same array or same pixels), label and look; a
        painted one before one still being painted."""
        waiting = None
        for job, slide in self._slides.values():
            if job.label != label or job.style != style or not _alike(job.image, image):
                continue
            if slide is not None:
                return job, slide
            waiting = waiting or (job, slide)
        return waiting

    def find(
        self, image: np.ndarray, label: LabelInfo | None, style: SlideStyle
    ) -> pygame.Surface | None:
        """The painted slide of this picture (same array or same pixels) and label."""
        same = self._same(image, label, style)
        if same is None or same[1] is None:
            return None
        self.used += 1
        return same[1]


def _alike(a: np.ndarray, b: np.ndarray) -> bool:
    """Same array, or same pixels: a sparse sample first, so a present on the frame thread
    compares whole pictures only with the one that is probably the same."""
    if a is b:
        return True
    if a.shape != b.shape or not np.array_equal(a[::37, ::37], b[::37, ::37]):
        return False
    return np.array_equal(a, b)


Painted = tuple[SlideJob, pygame.Surface | None, tuple[float, float]]  # slide, (began, ended)


class SlidePainter:
    """One worker thread painting SlideJobs; per slot only the newest job counts.

    submit() never waits. A job submitted for a slot replaces one still queued for it; a job
    already being painted finishes, and the kiosk drops its result when a newer one exists.
    Failures are logged and come back as None: the wall keeps what it shows.
    """

    def __init__(
        self,
        render: Callable[[SlideJob], pygame.Surface] | None = None,
        on_done: Callable[[], None] | None = None,
    ) -> None:
        self.canvases = Canvases()  # a blank slide made while idle (canvas.py)
        # looked up late: tests patch render_slide
        self._render = render or (lambda job: render_slide(job, self.canvases))
        self._on_done = on_done  # e.g. wake the frame loop: the slide can go up at once
        self._cond = threading.Condition()
        self._queue: dict[str, SlideJob] = {}
        self._done: list[Painted] = []
        self._working = False
        self._closed = False
        self.failures = 0
        self._thread = threading.Thread(target=self._run, name="kiosk-slides", daemon=True)
        self._thread.start()

    def submit(self, job: SlideJob) -> None:
        with self._cond:
            self._queue.pop(job.slot, None)  # re-insert: slots are painted in request order
            self._queue[job.slot] = job
            self._cond.notify_all()

    def hurry(self, slot: str) -> None:
        """Paint the job queued for `slot` before other jobs of its kind (a present waits)."""
        with self._cond:
            job = self._queue.pop(slot, None)
            if job is not None:
                self._queue = {slot: job, **self._queue}

    def drop(self, slot: str) -> None:
        """Forget the job queued for `slot`, if not begun (a newer one needs no painting)."""
        with self._cond:
            self._queue.pop(slot, None)

    def take(self) -> list[Painted]:
        """Finished slides (None where painting failed) with when painting began and ended
        (monotonic), oldest first."""
        with self._cond:
            done, self._done = self._done, []
        return done

    def idle(self) -> bool:
        with self._cond:
            return not self._queue and not self._working

    def wait_idle(self, timeout: float) -> bool:
        """Block until nothing is queued or being painted (tests and tools only)."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue and not self._working, timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Stop after the slide in hand; pygame must not quit while one is being painted."""
        with self._cond:
            self._closed = True
            self._queue.clear()
            self._cond.notify_all()
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.error("the slide painter did not stop within %.0f s", timeout)

    def _next(self) -> SlideJob | bool | None:
        """The next job; None once closed; False after BLANK_AFTER_S idle with a canvas to
        make (canvas.py)."""
        with self._cond:
            idle = BLANK_AFTER_S if self.canvases.wanted else None
            if not self._cond.wait_for(lambda: self._queue or self._closed, idle):
                return False
            if self._closed:
                return None
            # slides asked for ahead of time (kind 'prepare') never delay one to show now
            slot = next((s for s, j in self._queue.items() if j.kind != "prepare"), None)
            slot = slot or next(iter(self._queue))
            self._working = True
            return self._queue.pop(slot)

    def _run(self) -> None:
        while (job := self._next()) is not None:
            if isinstance(job, bool):
                self.canvases.make()
                continue
            slide: pygame.Surface | None = None
            began = time.monotonic()
            try:
                slide = self._render(job)
            except Exception:  # never kill the painter: the wall keeps its picture
                self.failures += 1
                log.exception("painting a %s slide failed; the wall keeps its picture", job.kind)
            times = (began, time.monotonic())
            with self._cond:
                self._done.append((job, slide, times))
                self._working = False
                self._cond.notify_all()
                if self._on_done is not None:  # before take() can see it: no news is lost
                    self._on_done()
