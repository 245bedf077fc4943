"""The show file schema (show.toml).

Each section is a pydantic model with extra="forbid" so a typo is an error, never a
silently ignored key, and strict types: `count = "3"` or `fullscreen = "yes"` is an
error naming the type, not a guess (a whole number may still be given for a number,
and paths are written as text). Every number has a range that keeps the show working.
Field descriptions are the curator-facing reference: keep them short and concrete.
Cross-field rules that need the show folder live in show/rules.py and show/path_rules.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, Strict, StrictInt, field_validator

from installation.core.variations import RenderParams, VariationRule, parse_approval

# OSC field validators and the cue-target type live with the OSC namespace (pure, no sockets).
from installation.osc.addresses import AllowList, ListenAddress
from installation.osc.targets import OscTarget
from installation.show.schema_base import Section
from installation.show.schema_room import ClusterSection, ProjectorEntry, ScheduleSection
from installation.show.schema_screens import (
    CORNER,
    LABEL_FONT,
    LABEL_SIZE,
    MAX_SCREENS,
    ROTATION,
    UPSCALE,
    Corner,
    Rotation,
    ScreenEntry,
    Upscale,
)
from installation.show.schema_upscale import UpscaleSection
from installation.show.web_config import WebListen

# Paths are written as text in TOML; everything else is taken only as its own type.
LaxPath = Annotated[Path, Strict(False)]
# Faces a show may have: within the serial protocol's MAX_FACES (120, dice/protocol.py; a
# test keeps it so); 100 is what the memory bounds were measured for (8 dice of 100 faces).
MAX_FACES = 100
MIN_BAUD, MAX_BAUD = 300, 4_000_000  # Linux termios runs from B300 (sanely) to B4000000
MIN_WINDOW, MAX_WINDOW = 64, 16384  # the kiosk refuses windows under 64; 16384 is 1 GiB RGBA
TEXT = 200  # wall texts (title, label, invitation): one line on the wall
INSIDE = "Relative to the show folder and inside it (no absolute path, no ../)."
ANYWHERE = "Relative to the show folder, or absolute (models often live on a data disk)."


class ShowInfo(Section):
    name: str = Field(
        "untitled", max_length=100, description="Short name, used in logs and the status."
    )
    title: str = Field("", max_length=TEXT, description="Title of the work, on the wall label.")
    artist: str = Field("", max_length=TEXT, description="Artist's name, on the wall label.")


class ArtworkSection(Section):
    paintings: list[LaxPath] = Field(
        default_factory=list,
        max_length=256,
        description="Source painting(s): image files of at most 256 MiB. None: text-to-image. "
        f"With several, the variation seed picks one (seed mod count). {INSIDE}",
    )
    mask: Path | None = Field(
        None,
        strict=False,
        description="Optional mask image (white = repaint, black = keep the painting): "
        f"inpainting. {INSIDE}",
    )


class DiceSection(Section):
    count: int = Field(2, ge=1, le=8, description="Number of dice.")
    faces: int = Field(6, ge=2, le=MAX_FACES, description="Faces per die.")
    ports: list[str] = Field(
        default_factory=list,
        max_length=16,
        description="Serial ports: a device path (e.g. /dev/ttyACM0 or a /dev/serial/by-id/ "
        "link) or usb:VID:PID[:SERIAL] (4-digit hex), each optionally ending in @BAUD. "
        "No serial URLs (loop://). Dice numbers run on across ports in this order. "
        "Empty: no physical dice.",
    )
    baud: int = Field(115200, ge=MIN_BAUD, le=MAX_BAUD, description="Serial speed (8N1).")
    settle_ms: int = Field(
        300, ge=0, le=10000, description="All dice must rest this long before a throw counts."
    )
    throw_timeout_s: float = Field(
        8.0,
        ge=0.5,
        le=120,
        description="A throw that has not settled by then is dropped; longer than settle_ms.",
    )
    every_die_must_move: bool = Field(
        True,
        description="true: a throw counts once every die has moved and landed. false: a die "
        "left lying on the table counts with the face it shows.",
    )
    silence_timeout_s: float = Field(
        3.0,
        ge=1,
        le=60,
        description="No line for this long: the port is treated as dead (devices send a "
        "heartbeat at least once a second).",
    )


SeedMode = Literal["fixed", "fresh"]
EngineName = Literal["auto", "diffusers", "fallback"]


class VariationsSection(Section):
    seed_mode: SeedMode = Field(
        "fixed",
        description="fixed: the same faces always give the same variation. "
        "fresh: every throw is new (the count survives restarts).",
    )
    salt: str = Field(
        "the-variation",
        max_length=TEXT,
        description="Mixed into every seed; change it for a new set.",
    )
    prompt: str = Field(
        "a painting",
        max_length=4000,
        description="Prompt template. {die1}, {die2} ... insert the variant chosen by that die.",
    )
    variants: list[list[str]] = Field(
        default_factory=list,
        max_length=8,
        description="One list per die, one entry per face: the words that die adds to the prompt.",
    )
    negative_prompt: str = Field("", max_length=4000, description="What the image should avoid.")
    strength: float = Field(
        0.6,
        gt=0,
        le=1,
        description="img2img: how far from the painting (0 keeps it, 1 ignores it).",
    )
    steps: int = Field(4, ge=1, le=150, description="Denoising steps.")
    guidance: float = Field(1.0, ge=0, le=30, description="Classifier-free guidance scale.")
    width: int | None = Field(
        None,
        ge=64,
        le=2048,
        description="Image width in pixels, a multiple of 8. None: the painting's aspect at "
        "about the model's native pixel count (512x512 for SD 1.x), so nothing is cropped.",
    )
    height: int | None = Field(
        None, ge=64, le=2048, description="Image height in pixels, a multiple of 8. As width."
    )
    engine: EngineName = Field(
        "auto",
        description="auto: diffusers when a model is set and loads, else fallback. "
        "fallback: the procedural CPU renderer.",
    )
    model: Path | None = Field(
        None,
        strict=False,
        description="Local diffusers model folder or single-file checkpoint. "
        f"None: fallback engine. {ANYWHERE}",
    )
    model_config_dir: Path | None = Field(
        None,
        strict=False,
        description=f"For a single-file checkpoint: its local diffusers config folder. {ANYWHERE}",
    )


class EngineSection(Section):
    device: Literal["auto", "cuda", "cpu"] = Field("auto", description="Where the model runs.")
    tiny_vae: Path | None = Field(
        None, strict=False, description=f"Optional TAESD folder for fast decoding. {ANYWHERE}"
    )
    compile: bool = Field(False, description="torch.compile the UNet (CUDA only; slow start-up).")
    worker_timeout_s: float = Field(
        60.0,
        ge=1,
        le=3600,
        description="A worker with no heartbeat, or a render not done, for this long is "
        "restarted (a model on a CPU needs tens of seconds per image).",
    )


class DisplaySection(Section):
    display: int = Field(0, ge=0, le=16, description="Which screen (0 = first).")
    fullscreen: bool = Field(True, description="Fullscreen kiosk (cursor hidden) or a window.")
    window_size: tuple[StrictInt, StrictInt] = Field(
        (1024, 768),
        strict=False,
        description=f"Window size [width, height] when not fullscreen, each {MIN_WINDOW} to "
        f"{MAX_WINDOW}.",
    )
    fit: Literal["cover", "contain"] = Field(
        "contain", description="cover fills the screen (crops); contain shows it whole."
    )
    fps: int = Field(60, ge=10, le=240, description="Target frame rate.")
    transition_ms: int = Field(1200, ge=0, le=20000, description="Crossfade duration.")
    attract_after_s: float = Field(
        90.0, ge=1, le=86400, description="Idle time before attract mode invites a throw."
    )
    attract_text: str = Field(
        "Throw the dice", max_length=TEXT, description="Invitation shown in attract mode."
    )
    label: bool = Field(True, description="Show the wall label (pips, number, seed).")
    label_template: str = Field(
        "Variation {number} · seed {seed}",
        max_length=TEXT,
        description="Label text. Fields: {number} {seed} {faces} {title} {artist} {engine}, "
        "optionally with a format spec up to 64 wide, e.g. {number:>4}. The label adds a "
        "'title · artist' line of its own, leaving out what the text already shows.",
    )
    background: str = Field("#000000", description="Colour around a contained image, #rrggbb.")
    rotation: Rotation = Field(0, description=ROTATION)
    label_corner: Corner = Field("bottom-left", description=CORNER)
    label_size: float = Field(1.0, ge=0.5, le=3, description=LABEL_SIZE)
    label_font: LaxPath | None = Field(None, description=LABEL_FONT)
    upscale: Upscale = Field("smooth", description=UPSCALE)
    standby_image: Path | None = Field(
        None,
        strict=False,
        description=f"A poster shown outside opening hours (standby); none: black. {INSIDE}",
    )
    rehearsal_keys: bool = Field(
        False, description="Keys 1-6 set faces, space throws at random (rehearsals only)."
    )
    allow_quit_key: bool = Field(
        False, description="Escape closes the kiosk. Off in production: a stray key does nothing."
    )


class OscSection(Section):
    listen: ListenAddress = Field(
        "127.0.0.1:9000", description="host:port for remote control. Empty string: no control."
    )
    allow: AllowList = Field(
        default_factory=list,
        description="Senders allowed to control, as IPs or CIDRs. Loopback is always allowed.",
    )
    reply_port: int | None = Field(
        None, ge=1, le=65535, description="Send replies to this port instead of the sender's."
    )
    heartbeat_s: float = Field(
        0.0, ge=0, le=3600, description="Heartbeat cue period, 0.5 to 3600; 0: none."
    )
    targets: list[OscTarget] = Field(
        default_factory=list, max_length=32, description="Cue receivers."
    )

    @field_validator("heartbeat_s")
    @classmethod
    def _heartbeat(cls, v: float) -> float:
        if 0 < v < 0.5:  # a cue every frame floods every receiver
            raise ValueError("expected 0 (no heartbeat) or a period from 0.5 to 3600 seconds")
        return v


class CacheSection(Section):
    memory_mb: int = Field(512, ge=0, le=1_048_576, description="In-memory cache budget.")
    disk_mb: int = Field(2048, ge=0, le=1_000_000_000, description="On-disk cache budget.")
    prerender: bool = Field(True, description="Render outcomes in the background at start.")


class ArchiveSection(Section):
    enabled: bool = Field(True, description="Save every shown variation as a PNG with metadata.")
    max_files: int = Field(
        100000, ge=1, le=10_000_000, description="Keep at most this many; oldest go first."
    )
    max_mb: int = Field(
        20000, ge=1, le=1_000_000_000, description="Keep at most this much; oldest go first."
    )


class SafetySection(Section):
    checker: Path | None = Field(
        None, strict=False, description=f"Local safety checker folder. {ANYWHERE}"
    )
    required: bool = Field(False, description="Refuse to start without a working safety checker.")
    blocked_seeds: list[int] = Field(
        default_factory=list, max_length=100_000, description="Never show these seeds."
    )
    approved_only: bool = Field(
        False,
        description="Show only approved variations: a throw of an outcome not in approved "
        "shows an approved one instead (picked by the seed rule).",
    )
    approved: list[str] = Field(
        default_factory=list,
        max_length=100_000,
        description="Approved outcomes as 'faces' ('3-5') or 'faces@seed' ('3-5@1234').",
    )


class StorageSection(Section):
    dir: Path = Field(
        Path("var"),
        strict=False,
        description="Cache, archive and state folder: relative to the show folder and inside "
        "it, or an absolute path on a data disk (not a system folder such as /etc or /usr, "
        "and not / or a home folder itself: old files in it are deleted).",
    )


class WebSection(Section):
    """The gallery console (docs/web.md): a web page for technicians, curators, the artist."""

    listen: WebListen = Field(
        "",
        description="'HOST:PORT' for the console, e.g. '0.0.0.0:8080'; ':8080' listens on "
        "loopback only. Empty: no console. Beyond loopback it needs a user "
        "(installation web user add).",
    )
    session_hours: float = Field(12.0, gt=0, le=720, description="A sign-in lasts this long.")


class Show(Section):
    """A whole show.toml. Paths are resolved against `folder` by the loader."""

    show: ShowInfo = Field(default_factory=ShowInfo)  # type: ignore[arg-type]
    artwork: ArtworkSection = Field(default_factory=ArtworkSection)  # type: ignore[arg-type]
    dice: DiceSection = Field(default_factory=DiceSection)  # type: ignore[arg-type]
    variations: VariationsSection = Field(default_factory=VariationsSection)  # type: ignore[arg-type]
    engine: EngineSection = Field(default_factory=EngineSection)  # type: ignore[arg-type]
    display: DisplaySection = Field(default_factory=DisplaySection)  # type: ignore[arg-type]
    screens: list[ScreenEntry] = Field(
        default_factory=list,
        max_length=MAX_SCREENS,
        description="Several screens from this one process ([[screens]] tables, docs/screens.md); "
        "none: the one screen of [display].",
    )
    upscale: UpscaleSection | None = Field(
        None,
        description="The worker's upscale pass after generation (docs/screens.md); none: "
        "the picture stays at its generation size and the screen enlarges it ([display] upscale).",
    )
    osc: OscSection = Field(default_factory=OscSection)  # type: ignore[arg-type]
    cache: CacheSection = Field(default_factory=CacheSection)  # type: ignore[arg-type]
    archive: ArchiveSection = Field(default_factory=ArchiveSection)  # type: ignore[arg-type]
    safety: SafetySection = Field(default_factory=SafetySection)  # type: ignore[arg-type]
    storage: StorageSection = Field(default_factory=StorageSection)  # type: ignore[arg-type]
    schedule: ScheduleSection | None = Field(None, description="Opening hours; none: always open.")
    projectors: list[ProjectorEntry] = Field(
        default_factory=list, max_length=32, description="PJLink projectors."
    )
    cluster: ClusterSection = Field(default_factory=ClusterSection)  # type: ignore[arg-type]
    web: WebSection = Field(default_factory=WebSection)  # type: ignore[arg-type]

    folder: Path = Field(Path("."), exclude=True, description="Set by the loader.")
    source: Path = Field(Path("show.toml"), exclude=True, description="Set by the loader.")

    def resolve(self, p: Path) -> Path:
        """A show-relative path made absolute against the show folder."""
        return p if p.is_absolute() else (self.folder / p).resolve()

    @property
    def storage_dir(self) -> Path:
        return self.resolve(self.storage.dir)


def variation_rule(show: Show) -> VariationRule:
    """The core's plain-data view of the show's variation settings."""
    from installation.show.shape import generation_sizes

    v = show.variations
    sizes = generation_sizes(show)
    (width, height) = sizes[0]
    up = show.upscale
    scale, max_side = (up.scale, up.max_side) if up is not None else (1.0, 0)
    return VariationRule(
        seed_mode=v.seed_mode,
        salt=v.salt,
        prompt=v.prompt,
        variants=tuple(tuple(x) for x in v.variants),
        negative_prompt=v.negative_prompt,
        params=RenderParams(v.strength, v.steps, v.guidance, width, height, scale, max_side),
        sizes=sizes if len(set(sizes)) > 1 else (),
        faces_per_die=show.dice.faces,
        paintings=max(1, len(show.artwork.paintings)),
        approved_only=show.safety.approved_only,
        approved=tuple(parse_approval(a) for a in show.safety.approved),
        blocked_seeds=frozenset(show.safety.blocked_seeds),
    )
