"""Notes on a valid show: what it will do that a curator may not expect. Not errors: the
show runs. `installation validate` prints them after the summary and `run` logs them.

Today they are about big outcome spaces (8 dice of 100 faces is 10**16 outcomes, all
valid): more outcomes than the cache holds are not all pre-rendered, and the contact
sheet shows a sample. Everything that walks outcomes does so lazily, so these shows run
in the same memory as small ones.
"""

from __future__ import annotations

from installation.core.dice import outcome_count
from installation.show.schema import Show, variation_rule

SHEET_SAMPLE = 216  # tiles on a contact sheet by default (three six-sided dice: every one)
PREFILL_SHARE = 0.9  # of the cache, pre-rendered when not everything fits (cache/prefill.py)


def cache_holds(show: Show) -> int:
    """Images the show's cache holds at first (uncompressed size; the cache counts more
    once it knows its PNG sizes), as cache.OutcomeCache.capacity starts out."""
    p, c = variation_rule(show).params, show.cache  # the size the show renders at
    raw = p.width * p.height * 3
    return max(c.disk_mb * 2**20 // raw, c.memory_mb * 2**20 // raw)


def show_notes(show: Show) -> list[str]:
    """One line per note, for a curator."""
    d, c = show.dice, show.cache
    total = outcome_count(d.count, d.faces)
    what = f"{total:,} outcomes ({d.count} x d{d.faces})"
    notes = []
    holds = cache_holds(show)
    if holds == 0:
        notes.append("no outcome cache ([cache] memory_mb and disk_mb are 0): every throw renders")
    elif total > holds:
        ahead = f"the first {int(holds * PREFILL_SHARE):,} are" if c.prerender else "none is"
        notes.append(
            f"{what} are more than the cache holds (about {holds:,} pictures of "
            f"{show.variations.width}x{show.variations.height}): {ahead} pre-rendered; "
            "other throws render when thrown"
        )
    if total > SHEET_SAMPLE:
        notes.append(
            f"`installation sheet` draws a repeatable sample of {SHEET_SAMPLE} of the {what} "
            "(--sample sets how many)"
        )
    return notes
