"""Cross-field rules for a show: what pydantic's per-field checks cannot see.

Each rule is a pure function of a parsed Show (with `folder` set) returning
(key path, message) pairs; the loader locates them in show.toml. Rules register the
keys they read, so when a key failed validation its rules are skipped instead of
judging defaults the curator never wrote.
"""

from __future__ import annotations

import math
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator

from installation.core.variations import SEED_MODULUS, prompt_slots
from installation.show.files import kind_of
from installation.show.format_check import template_problems
from installation.show.schema import MAX_BAUD, MAX_WINDOW, MIN_BAUD, MIN_WINDOW, Show

Loc = tuple[str | int, ...]
Issue = tuple[Loc, str]
Rule = Callable[[Show], Iterable[Issue]]

# Fields of the wall label with a value of the type the kiosk fills in.
LABEL_SAMPLES: dict[str, object] = dict(
    number=36, seed=4294967295, faces="6 6", title="T", artist="A", engine="fallback"
)
LABEL_FIELDS = tuple(LABEL_SAMPLES)
RULES: list[tuple[tuple[str, ...], Rule]] = []
_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")
_BRACES = re.compile(r"\{([^{}]*)\}")


def rule(*reads: str) -> Callable[[Rule], Rule]:
    """Register a rule with the keys it reads ('dice.count')."""

    def add(fn: Rule) -> Rule:
        RULES.append((reads, fn))
        return fn

    return add


def _overlaps(a: str, b: str) -> bool:
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


def check(show: Show, skip: Iterable[str] = ()) -> list[Issue]:
    """Every cross-field issue, skipping rules that read a key (or section) in `skip`:
    those keys failed validation and hold defaults the curator never wrote."""
    failed, issues = set(skip), list[Issue]()
    for reads, fn in RULES:
        if any(_overlaps(r, f) for r in reads for f in failed):
            continue
        try:
            issues.extend(fn(show))
        except Exception as e:  # a rule's bug must refuse the show, never crash the caller
            where: Loc = tuple(reads[0].split(".")) if reads else ()
            issues.append((where, f"could not be checked ({fn.__name__}: {e!r})"))
    return issues


@rule("artwork.paintings", "variations.steps", "variations.strength")
def img2img_steps(show: Show) -> Iterator[Issue]:
    """img2img runs int(steps*strength) steps; zero fails deep inside diffusers."""
    v = show.variations
    if not show.artwork.paintings or int(v.steps * v.strength) >= 1:
        return
    steps = max(v.steps, math.ceil(1 / v.strength))
    while int(steps * v.strength) < 1:
        steps += 1
    yield (
        ("variations", "strength"),
        (
            f"steps {v.steps} x strength {v.strength:g} gives {int(v.steps * v.strength)} "
            f"denoising steps on the painting; at least 1 is needed: use steps = {steps} or more, "
            f"or strength = {1 / v.steps:.3g} or more"
        ),
    )


@rule("variations.width", "variations.height")
def size_multiple_of_8(show: Show) -> Iterator[Issue]:
    for key in ("width", "height"):
        n = getattr(show.variations, key)
        if n is not None and n % 8:
            lower, upper = n - n % 8, n - n % 8 + 8
            yield ("variations", key), f"got {n}; expected a multiple of 8, e.g. {lower} or {upper}"


@rule("variations.variants", "dice.count", "dice.faces")
def variants_shape(show: Show) -> Iterator[Issue]:
    """At most one variants list per die, each with one entry per face."""
    lists, count, faces = show.variations.variants, show.dice.count, show.dice.faces
    if len(lists) > count:
        yield (
            ("variations", "variants"),
            (f"{len(lists)} lists for {count} dice; expected at most {count} (one list per die)"),
        )
    for i, entries in enumerate(lists):
        if len(entries) != faces:
            yield (
                ("variations", "variants", i),
                (
                    f"die {i + 1}'s list has {len(entries)} entries; "
                    f"expected {faces} (one per face, dice.faces = {faces})"
                ),
            )


@rule("variations.prompt", "variations.variants", "dice.count", "dice.faces")
def prompt_fields(show: Show) -> Iterator[Issue]:
    """Every {dieN} slot needs a die and a variants list; other {...} are typos."""
    v, count = show.variations, show.dice.count
    for n in dict.fromkeys(prompt_slots(v.prompt)):
        if not 1 <= n <= count:
            yield (
                ("variations", "prompt"),
                (
                    f"{{die{n}}} refers to die {n}, but the show has {count} dice (dice.count); "
                    f"slots run from {{die1}} to {{die{count}}}"
                ),
            )
        elif n > len(v.variants):
            yield (
                ("variations", "prompt"),
                (
                    f"{{die{n}}} has no variants list: variations.variants has {len(v.variants)} "
                    f"list(s); add a list of {show.dice.faces} entries for die {n}"
                ),
            )
    for name in _BRACES.findall(v.prompt):
        if not re.fullmatch(r"die\d+", name):
            yield (
                ("variations", "prompt"),
                (f"{{{name}}} is not a prompt slot; expected {{die1}} to {{die{count}}}"),
            )


@rule("display.label_template")
def label_fields(show: Show) -> Iterator[Issue]:
    """Known fields only, plain format specs of bounded width, and it must fill in."""
    for problem in template_problems(show.display.label_template, LABEL_SAMPLES):
        yield ("display", "label_template"), problem


@rule("display.background")
def background_colour(show: Show) -> Iterator[Issue]:
    if not _COLOUR.match(show.display.background):
        yield (
            ("display", "background"),
            (f"got {show.display.background!r}; expected a colour as #rrggbb, e.g. '#000000'"),
        )


@rule("safety.required", "safety.checker")
def safety_checker_required(show: Show) -> Iterator[Issue]:
    if show.safety.required and show.safety.checker is None:
        yield (
            ("safety", "required"),
            (
                "required = true but no safety.checker is set; set checker to a local safety "
                "checker folder, or required = false"
            ),
        )


@rule("safety.blocked_seeds")
def blocked_seeds(show: Show) -> Iterator[Issue]:
    for i, seed in enumerate(show.safety.blocked_seeds):
        if not 0 <= seed < SEED_MODULUS:
            yield (
                ("safety", "blocked_seeds", i),
                (f"got {seed}; expected a seed from 0 to {SEED_MODULUS - 1}"),
            )


def _approved_problem(entry: str, count: int, faces: int) -> str | None:
    """Why an approved entry ('3-5' or '3-5@1234') does not fit the dice, or None."""
    example = "-".join(["3"] * count)
    usage = f"expected 'faces' or 'faces@seed' for {count} dice, e.g. '{example}@1234'"
    key, at, seed = entry.partition("@")
    parts = key.split("-")
    if not all(p.strip().isdigit() for p in parts) or (at and not seed.strip().isdigit()):
        return f"got {entry!r}; {usage}"
    if len(parts) != count:
        return f"got {entry!r} with {len(parts)} faces; the show has {count} dice; {usage}"
    for die, face in enumerate(parts, start=1):
        if not 1 <= int(face) <= faces:
            return f"got {entry!r}: die {die} shows {int(face)}, but faces run from 1 to {faces}"
    if at and int(seed) >= SEED_MODULUS:
        return f"got {entry!r}: seed {seed} is too large; seeds run from 0 to {SEED_MODULUS - 1}"
    return None


@rule("safety.approved", "dice.count", "dice.faces")
def approved_outcomes(show: Show) -> Iterator[Issue]:
    for i, entry in enumerate(show.safety.approved):
        if problem := _approved_problem(entry, show.dice.count, show.dice.faces):
            yield ("safety", "approved", i), problem


@rule("safety.approved_only", "safety.approved")
def approved_only_needs_a_list(show: Show) -> Iterator[Issue]:
    if show.safety.approved_only and not show.safety.approved:
        yield (
            ("safety", "approved_only"),
            "is true but safety.approved is empty; list the approved outcomes, "
            "e.g. approved = ['3-5', '6-6@1234'], or set approved_only = false",
        )


PORT_FORMS = (
    "a device path such as '/dev/ttyACM0' or a '/dev/serial/by-id/...' link, or "
    "usb:VID:PID[:SERIAL] with 4-digit hex IDs such as 'usb:2341:0043', optionally ending "
    "in @BAUD"
)


def _port_problem(port: str) -> str | None:
    """Why DiceLink could not use `port`, or None. The syntax is the dice reader's own
    (dice/ports.parse); a path need not exist (a device may be plugged in later)."""
    from installation.dice import ports as portnames
    from installation.errors import DiceError

    if "://" in port:
        return (
            f"got {port!r}: serial URLs (loop://, socket://, ...) cannot be opened by "
            f"the dice reader; expected {PORT_FORMS}"
        )
    try:
        if port != port.strip() or (os.name == "posix" and port.upper().startswith("COM")):
            raise DiceError(port)
        name = portnames.parse(port)
    except (DiceError, ValueError):  # ValueError: int() of '@²' or of 5,000 digits
        return f"got {port!r}; expected {PORT_FORMS}"
    if name.baud is not None and not MIN_BAUD <= name.baud <= MAX_BAUD:
        return (
            f"got {port!r}: baud {name.baud} after '@' is out of range; "
            f"expected {MIN_BAUD} to {MAX_BAUD}"
        )
    if name.path:
        try:
            mode = os.stat(name.path).st_mode
        except (OSError, ValueError):
            return None  # unplugged now: DiceLink waits for it
        if not stat.S_ISCHR(mode):
            return f"got {port!r}, which is {kind_of(mode)}; expected a serial device, {PORT_FORMS}"
    return None


@rule("dice.ports")
def dice_ports(show: Show) -> Iterator[Issue]:
    """Only names the dice reader can open: a device path or usb:VID:PID[:SERIAL]."""
    for i, port in enumerate(show.dice.ports):
        if problem := _port_problem(port):
            yield ("dice", "ports", i), problem


@rule("dice.throw_timeout_s", "dice.settle_ms")
def throw_outlasts_settle(show: Show) -> Iterator[Issue]:
    d = show.dice
    if d.throw_timeout_s * 1000 <= d.settle_ms:
        yield (
            ("dice", "throw_timeout_s"),
            (
                f"got {d.throw_timeout_s:g} s, but dice must rest settle_ms = {d.settle_ms} ms "
                f"before a throw counts, so every throw would time out; use more than "
                f"{d.settle_ms / 1000:g} s"
            ),
        )


@rule("display.window_size")
def window_size(show: Show) -> Iterator[Issue]:
    size = show.display.window_size
    if not all(MIN_WINDOW <= n <= MAX_WINDOW for n in size):
        yield (
            ("display", "window_size"),
            (
                f"got [{size[0]}, {size[1]}]; expected [width, height], each a whole number "
                f"from {MIN_WINDOW} to {MAX_WINDOW}, e.g. [1024, 768]"
            ),
        )


@rule("cluster.leader_timeout_s", "cluster.state_every_s")
def leader_timeout_outlasts_state(show: Show) -> Iterator[Issue]:
    c = show.cluster
    if c.leader_timeout_s <= c.state_every_s:
        yield (
            ("cluster", "leader_timeout_s"),
            (
                f"got {c.leader_timeout_s:g} s, but the leader speaks only every "
                f"state_every_s = {c.state_every_s:g} s, so followers would give it up between "
                f"messages; use more than {c.state_every_s:g} s (e.g. {3 * c.state_every_s:g})"
            ),
        )


@rule("osc.targets")
def osc_target_names(show: Show) -> Iterator[Issue]:
    """Names appear in logs and status: two targets with one name are a copy-paste slip.
    (Hosts, listen and allow are checked by the schema's OSC validators.)"""
    seen: dict[str, int] = {}
    for i, target in enumerate(show.osc.targets):
        if target.name in seen:
            yield (
                ("osc", "targets", i, "name"),
                (
                    f"name {target.name!r} is already used by osc.targets[{seen[target.name]}]; "
                    "target names must be unique"
                ),
            )
        seen.setdefault(target.name, i)


@rule("web.listen", "storage.dir")
def web_console_users(show: Show) -> Iterator[Issue]:
    """A console reachable from the LAN must ask who is there."""
    from installation.show.web_config import any_users, is_loopback, parse_listen, users_path

    if not show.web.listen:
        return
    host, _ = parse_listen(show.web.listen)
    if not is_loopback(host) and not any_users(show.storage_dir):
        yield (
            ("web", "listen"),
            (
                f"{show.web.listen!r} listens beyond this machine but no console user exists "
                f"(none in {users_path(show.storage_dir)}); add one with "
                "`installation web user add SHOW NAME --role technician`, or listen on "
                "loopback only (':8080')"
            ),
        )
