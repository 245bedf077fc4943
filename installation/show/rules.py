"""Cross-field rules for a show: what pydantic's per-field checks cannot see.

Each rule is a pure function of a parsed Show (with `folder` set) returning
(key path, message) pairs; the loader locates them in show.toml. Rules register the
keys they read, so when a key failed validation its rules are skipped instead of
judging defaults the curator never wrote.
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from installation.core.variations import SEED_MODULUS, prompt_slots
from installation.show.schema import Show

Loc = tuple[str | int, ...]
Issue = tuple[Loc, str]
Rule = Callable[[Show], Iterable[Issue]]

LABEL_FIELDS = ("number", "seed", "faces", "title", "artist", "engine")
RULES: list[tuple[tuple[str, ...], Rule]] = []
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_USB = re.compile(r"^usb:([0-9A-Fa-f]{1,4}):([0-9A-Fa-f]{1,4})(:.+)?$")
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


def _resolve(show: Show, p: Path) -> Path:
    """show.resolve, but never raising: an unusable path is reported by _missing."""
    try:
        return show.resolve(p)
    except (OSError, ValueError):  # e.g. a NUL character in the path
        return show.folder / p


def _missing(path: Path) -> str | None:
    """Why `path` cannot be used as an existing file or folder, or None."""
    if "\x00" in str(path):  # pathlib quietly answers False; mkdir/open would raise
        return "is not a usable path (it contains a NUL character)"
    try:
        if path.exists():
            return None
    except (OSError, ValueError) as e:  # e.g. a NUL character, a name too long
        return f"is not a usable path ({e})"
    return f"not found (looked for {path})"


def _image_problem(path: Path) -> str | None:
    from PIL import Image  # only here: keeps the schema import light

    if missing := _missing(path):
        return missing
    if path.is_dir():
        return f"is a folder ({path}); expected an image file such as a PNG or JPEG"
    try:
        with Image.open(path) as im:
            im.verify()
    except Exception as e:  # PIL raises many kinds; all mean "cannot use this file"
        return f"is not a readable image ({path}: {e})"
    return None


@rule("display.standby_image")
def standby_image(show: Show) -> Iterator[Issue]:
    poster = show.display.standby_image
    if poster is not None and (problem := _image_problem(_resolve(show, poster))):
        yield ("display", "standby_image"), f"standby image {str(poster)!r} {problem}"


@rule("artwork.paintings", "artwork.mask")
def artwork_images(show: Show) -> Iterator[Issue]:
    """Each painting and the mask must be a readable image; a mask needs a painting."""
    art = show.artwork
    for i, p in enumerate(art.paintings):
        if problem := _image_problem(_resolve(show, p)):
            yield ("artwork", "paintings", i), f"painting {str(p)!r} {problem}"
    if art.mask is not None:
        if problem := _image_problem(_resolve(show, art.mask)):
            yield ("artwork", "mask"), f"mask {str(art.mask)!r} {problem}"
        if not art.paintings:
            yield ("artwork", "mask"), "a mask needs a painting to repaint; add artwork.paintings"


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
        if n % 8:
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
    template, accepted = show.display.label_template, ", ".join(f"{{{f}}}" for f in LABEL_FIELDS)
    try:
        names = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as e:
        yield (
            ("display", "label_template"),
            (f"got {template!r}: {e}; write a literal brace as {{{{ or }}}}; fields: {accepted}"),
        )
        return
    for name in dict.fromkeys(names):
        if name not in LABEL_FIELDS:
            yield ("display", "label_template"), f"unknown field {{{name}}}; expected {accepted}"


@rule("display.background")
def background_colour(show: Show) -> Iterator[Issue]:
    if not _COLOUR.match(show.display.background):
        yield (
            ("display", "background"),
            (f"got {show.display.background!r}; expected a colour as #rrggbb, e.g. '#000000'"),
        )


@rule("variations.model", "variations.engine", "variations.model_config_dir")
def model_present(show: Show) -> Iterator[Issue]:
    """The model is local, never fetched at show time; a single file needs its config."""
    v = show.variations
    if v.model is None:
        if v.engine == "diffusers":
            yield (
                ("variations", "engine"),
                (
                    "engine 'diffusers' needs a model: set variations.model to a local model "
                    "folder, or use engine = 'auto' or 'fallback'"
                ),
            )
        return
    path, written = _resolve(show, v.model), str(v.model)
    if (missing := _missing(path)) is None:
        if path.is_file() and v.model_config_dir is None:
            yield (
                ("variations", "model_config_dir"),
                (
                    f"model {written!r} is a single-file checkpoint; set model_config_dir to its "
                    "local diffusers config folder (without it diffusers may try to download one)"
                ),
            )
        return
    first = _resolve(show, Path(v.model.parts[0]))
    if not v.model.is_absolute() and _REPO_ID.match(written) and _missing(first):
        name = written.split("/")[-1]
        yield (
            ("variations", "model"),
            (
                f"{written!r} is not a folder or file in the show (looked for {path}); it looks "
                "like a Hugging Face repo id, and shows only use local models. Fetch it once with "
                f"`installation models pull {written} --to models/{name}`, "
                f"then set model = 'models/{name}'"
            ),
        )
    else:
        yield (
            ("variations", "model"),
            (
                f"model {written!r} {missing}; expected a local diffusers "
                "folder or a single-file checkpoint"
            ),
        )


@rule("variations.model_config_dir", "engine.tiny_vae", "safety.checker")
def optional_paths(show: Show) -> Iterator[Issue]:
    """Folders that, when set, must exist."""
    for loc, value in (
        (("variations", "model_config_dir"), show.variations.model_config_dir),
        (("engine", "tiny_vae"), show.engine.tiny_vae),
        (("safety", "checker"), show.safety.checker),
    ):
        if value is not None and (missing := _missing(_resolve(show, value))):
            yield loc, f"{str(value)!r} {missing}"


@rule("storage.dir")
def storage_folder(show: Show) -> Iterator[Issue]:
    """The storage folder is created at start; it must at least be a possible folder."""
    path, written = _resolve(show, show.storage.dir), str(show.storage.dir)
    missing = _missing(path)
    if missing and missing.startswith("is not"):
        yield ("storage", "dir"), f"{written!r} {missing}"
    elif missing is None and not path.is_dir():
        yield ("storage", "dir"), f"{written!r} is a file ({path}); expected a folder"


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


@rule("dice.ports")
def dice_ports(show: Show) -> Iterator[Issue]:
    """A device path, a pyserial URL (loop://, spy://...) or usb:VID:PID[:SERIAL]."""
    for i, port in enumerate(show.dice.ports):
        if port.startswith("usb:"):
            if not _USB.match(port):
                yield (
                    ("dice", "ports", i),
                    (
                        f"got {port!r}; expected usb:VID:PID[:SERIAL] with VID and PID as hex, "
                        "e.g. 'usb:2341:0043' or 'usb:2341:0043:95530343'"
                    ),
                )
        elif not (port.startswith("/") or "://" in port) or port != port.strip():
            yield (
                ("dice", "ports", i),
                (
                    f"got {port!r}; expected a device path such as '/dev/ttyACM0', a "
                    "'/dev/serial/by-id/...' link, or usb:VID:PID[:SERIAL] such as 'usb:2341:0043'"
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
    from installation.web.config import is_loopback, parse_listen
    from installation.web.users import any_users, users_path

    if not show.web.listen:
        return
    host, _ = parse_listen(show.web.listen)
    if not is_loopback(host) and not any_users(_resolve(show, show.storage.dir)):
        yield (
            ("web", "listen"),
            (
                f"{show.web.listen!r} listens beyond this machine but no console user exists "
                f"(none in {users_path(_resolve(show, show.storage.dir))}); add one with "
                "`installation web user add SHOW NAME --role technician`, or listen on "
                "loopback only (':8080')"
            ),
        )
