"""What `installation validate` prints for a valid show: a few lines to check at a glance,
including when the doors next open and close."""

from __future__ import annotations

from datetime import UTC, datetime

from installation.core.dice import outcome_count
from installation.core.schedule import Schedule
from installation.show.schema import ScheduleSection, Show
from installation.show.shape import generation_sizes


def next_opening_and_closing(
    schedule: Schedule, now: datetime
) -> tuple[datetime | None, datetime | None]:
    """The next instant the doors open and the next they close after `now` (UTC; None:
    not within the schedule's horizon of about a year). Warm-up is not an opening."""
    opening = closing = None
    t, phase = now, schedule.phase_at(now)
    for _ in range(8):  # open -> closed -> warmup -> open covers both within 3 changes
        nxt = schedule.next_change(t)
        if nxt is None:
            break
        new = schedule.phase_at(nxt)
        if new == "open" and opening is None:
            opening = nxt
        if phase == "open" and new != "open" and closing is None:
            closing = nxt
        if opening is not None and closing is not None:
            break
        t, phase = nxt, new
    return opening, closing


def hours_line(section: ScheduleSection, now: datetime) -> str:
    """'open now (Europe/Berlin); closes Mon 2026-12-07 18:00, opens again ...'."""
    schedule = section.build()
    opening, closing = next_opening_and_closing(schedule, now)

    def local(t: datetime | None) -> str:
        return (
            "not within a year" if t is None else f"{t.astimezone(schedule.zone):%a %Y-%m-%d %H:%M}"
        )

    phase = schedule.phase_at(now)
    state = {"open": "open now", "warmup": "warming up now", "closed": "closed now"}[phase]
    if phase == "open":
        plan = f"closes {local(closing)}, opens again {local(opening)}"
    else:
        plan = f"opens {local(opening)}, closes {local(closing)}"
    return f"{state} ({section.timezone}); {plan}"


def upscale_line(show: Show) -> str:
    """What the worker's upscale pass will do, in one line."""
    up = show.upscale
    if up is None:
        return f"off: the screen enlarges the picture ({show.display.upscale})"
    from installation.core.variations import RenderParams

    sizes = sorted(set(generation_sizes(show)))
    grown = ", ".join(
        "{}x{} -> {}x{}".format(
            w, h, *RenderParams(0, 1, 0, w, h, up.scale, up.max_side).output_size()
        )
        for w, h in sizes
    )
    if up.mode == "x4":
        how = f"x4 upscaler {show.resolve(up.model)}, noise_level {up.noise_level}"  # type: ignore[arg-type]
    else:
        how = f"img2img with the show's model, strength {up.strength:g}"
    return (
        f"{grown}: {how}, {up.steps or ('20' if up.mode == 'x4' else show.variations.steps)} "
        f"steps, tiles {up.tile} overlapping {up.overlap} (Lanczos if it fails)"
    )


def summarize(show: Show, now: datetime | None = None) -> str:
    """A few lines a curator can check at a glance after validating."""
    s, d, v, o = show.show, show.dice, show.variations, show.osc
    title = " by ".join(x for x in (f"'{s.title}'" if s.title else "", s.artist) if x)
    ports = ", ".join(d.ports) if d.ports else "no physical dice"
    outcomes = outcome_count(d.count, d.faces)
    if v.model is None:
        engine = "fallback (no model)" if v.engine != "diffusers" else "diffusers (no model!)"
    else:
        engine = f"{v.engine}, model {show.resolve(v.model)}"
    mode = "img2img" if show.artwork.paintings else "text-to-image"
    sizes = sorted(set(generation_sizes(show)))
    size = ", ".join(f"{w}x{h}" for w, h in sizes)
    if v.width is None or v.height is None:
        size += " (the painting's shape)" if show.artwork.paintings else ""
    if show.artwork.mask is not None:
        mode = "inpainting"
    targets = ", ".join(f"{t.name} {t.host}:{t.port} ({t.mode})" for t in o.targets)
    if show.schedule is None:
        hours = "always open (no [schedule])"
    else:
        hours = hours_line(show.schedule, now or datetime.now(UTC))
    return "\n".join(
        [
            f"show      {s.name}" + (f": {title}" if title else ""),
            f"folder    {show.folder}",
            f"dice      {d.count} x d{d.faces}; {ports}",
            f"outcomes  {outcomes} ({v.seed_mode} seeds)",
            f"engine    {engine}",
            f"render    {size} {mode}, {v.steps} steps, strength {v.strength:g}, "
            f"guidance {v.guidance:g}",
            f"upscale   {upscale_line(show)}",
            f"osc       control {o.listen or 'off'}; targets: {targets or 'none'}",
            f"hours     {hours}",
        ]
    )
