"""The show file schema (show.toml).

Each section is a pydantic model with extra="forbid" so a typo is an error, never a
silently ignored key. Field descriptions are the curator-facing reference: keep them
short and concrete. Cross-field rules that need the show folder live in show/rules.py.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from installation.core.schedule import WEEKDAYS, Schedule, check_hours, check_timezone
from installation.core.variations import RenderParams, VariationRule, parse_approval

# OSC field validators live with the OSC namespace (a pure module, no sockets).
from installation.osc.addresses import (
    AddressTemplates,
    AllowList,
    ArgTemplates,
    ListenAddress,
    NumericHost,
    parse_hostport,
)
from installation.web.config import WebListen


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ShowInfo(Section):
    name: str = Field("untitled", description="Short name, used in logs and the status.")
    title: str = Field("", description="Title of the work, shown on the wall label.")
    artist: str = Field("", description="Artist's name, shown on the wall label.")


class ArtworkSection(Section):
    paintings: list[Path] = Field(
        default_factory=list,
        description="Source painting(s), relative to the show folder. None: text-to-image. "
        "With several, the variation seed picks one (seed mod count).",
    )
    mask: Path | None = Field(
        None,
        description="Optional mask image (white = repaint, black = keep the painting): inpainting.",
    )


class DiceSection(Section):
    count: int = Field(2, ge=1, le=8, description="Number of dice.")
    faces: int = Field(6, ge=2, le=20, description="Faces per die.")
    ports: list[str] = Field(
        default_factory=list,
        description="Serial ports: a path, a /dev/serial/by-id/ link or usb:VID:PID[:SERIAL]. "
        "Dice numbers run on across ports in this order. Empty: no physical dice.",
    )
    baud: int = Field(115200, gt=0, description="Serial speed (8N1).")
    settle_ms: int = Field(
        300, ge=0, le=10000, description="All dice must rest this long before a throw counts."
    )
    throw_timeout_s: float = Field(
        8.0, gt=0, le=120, description="A throw that has not settled by then is dropped."
    )
    every_die_must_move: bool = Field(
        True,
        description="true: a throw counts once every die has moved and landed. false: a die "
        "left lying on the table counts with the face it shows.",
    )
    silence_timeout_s: float = Field(
        3.0, gt=0, le=60, description="No line for this long: the port is treated as dead."
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
        "the-variation", description="Mixed into every seed; change it for a new set."
    )
    prompt: str = Field(
        "a painting",
        description="Prompt template. {die1}, {die2} ... insert the variant chosen by that die.",
    )
    variants: list[list[str]] = Field(
        default_factory=list,
        description="One list per die, one entry per face: the words that die adds to the prompt.",
    )
    negative_prompt: str = Field("", description="What the image should avoid.")
    strength: float = Field(
        0.6,
        gt=0,
        le=1,
        description="img2img: how far from the painting (0 keeps it, 1 ignores it).",
    )
    steps: int = Field(4, ge=1, le=150, description="Denoising steps.")
    guidance: float = Field(1.0, ge=0, le=30, description="Classifier-free guidance scale.")
    width: int = Field(512, ge=64, le=2048, description="Image width in pixels, a multiple of 8.")
    height: int = Field(512, ge=64, le=2048, description="Image height in pixels, a multiple of 8.")
    engine: EngineName = Field(
        "auto",
        description="auto: diffusers when a model is set and loads, else fallback. "
        "fallback: the procedural CPU renderer.",
    )
    model: Path | None = Field(
        None,
        description="Local diffusers model folder or single-file checkpoint. "
        "None: fallback engine.",
    )
    model_config_dir: Path | None = Field(
        None, description="For a single-file checkpoint: its local diffusers config folder."
    )


class EngineSection(Section):
    device: Literal["auto", "cuda", "cpu"] = Field("auto", description="Where the model runs.")
    tiny_vae: Path | None = Field(None, description="Optional TAESD folder for fast decoding.")
    compile: bool = Field(False, description="torch.compile the UNet (CUDA only; slow start-up).")
    worker_timeout_s: float = Field(
        60.0, gt=0, le=3600, description="A worker with no progress for this long is restarted."
    )


class DisplaySection(Section):
    display: int = Field(0, ge=0, le=16, description="Which screen (0 = first).")
    fullscreen: bool = Field(True, description="Fullscreen kiosk (cursor hidden) or a window.")
    window_size: tuple[int, int] = Field(
        (1024, 768), description="Window size when not fullscreen."
    )
    fit: Literal["cover", "contain"] = Field(
        "contain", description="cover fills the screen (crops); contain shows it whole."
    )
    fps: int = Field(60, ge=10, le=240, description="Target frame rate.")
    transition_ms: int = Field(1200, ge=0, le=20000, description="Crossfade duration.")
    attract_after_s: float = Field(
        90.0, gt=0, le=86400, description="Idle time before attract mode invites a throw."
    )
    attract_text: str = Field("Throw the dice", description="Invitation shown in attract mode.")
    label: bool = Field(True, description="Show the wall label (pips, number, seed).")
    label_template: str = Field(
        "Variation {number} · seed {seed}",
        description="Label text. Fields: {number} {seed} {faces} {title} {artist} {engine}.",
    )
    background: str = Field("#000000", description="Colour around a contained image, #rrggbb.")
    standby_image: Path | None = Field(
        None, description="A poster shown outside opening hours (standby); none: black."
    )
    rehearsal_keys: bool = Field(
        False, description="Keys 1-6 set faces, space throws at random (rehearsals only)."
    )
    allow_quit_key: bool = Field(
        False, description="Escape closes the kiosk. Off in production: a stray key does nothing."
    )


class OscTarget(Section):
    name: str = Field(description="A name for logs, e.g. 'sound'.")
    host: NumericHost = Field(description="Numeric IP address of the receiver.")
    port: int = Field(ge=1, le=65535, description="UDP port of the receiver.")
    mode: Literal["bundle", "immediate"] = Field(
        "immediate",
        description="bundle: timetagged at the moment the image shows. "
        "immediate: plain messages sent lead_ms early.",
    )
    lead_ms: int = Field(0, ge=0, le=10000, description="immediate mode: send this early.")
    addresses: AddressTemplates = Field(
        default_factory=dict,
        description='Per event address, e.g. shown = "/cue/{number}/go"; "" mutes the event '
        "for this target. See docs/osc.md for events and {fields}.",
    )
    args: ArgTemplates = Field(
        default_factory=dict,
        description='Per event arguments, e.g. shown = ["{number}", "f:0.5"]; '
        "prefix i: h: f: s: forces a type.",
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
    heartbeat_s: float = Field(0.0, ge=0, le=3600, description="Heartbeat cue period; 0: none.")
    targets: list[OscTarget] = Field(default_factory=list, description="Cue receivers.")


class CacheSection(Section):
    memory_mb: int = Field(512, ge=0, description="In-memory cache budget.")
    disk_mb: int = Field(2048, ge=0, description="On-disk cache budget.")
    prerender: bool = Field(True, description="Render outcomes in the background at start.")


class ArchiveSection(Section):
    enabled: bool = Field(True, description="Save every shown variation as a PNG with metadata.")
    max_files: int = Field(100000, ge=1, description="Keep at most this many; oldest go first.")
    max_mb: int = Field(20000, ge=1, description="Keep at most this much; oldest go first.")


class SafetySection(Section):
    checker: Path | None = Field(None, description="Local safety checker folder.")
    required: bool = Field(False, description="Refuse to start without a working safety checker.")
    blocked_seeds: list[int] = Field(default_factory=list, description="Never show these seeds.")
    approved_only: bool = Field(
        False,
        description="Show only approved variations: a throw of an outcome not in approved "
        "shows an approved one instead (picked by the seed rule).",
    )
    approved: list[str] = Field(
        default_factory=list,
        description="Approved outcomes as 'faces' ('3-5') or 'faces@seed' ('3-5@1234').",
    )


class StorageSection(Section):
    dir: Path = Field(
        Path("var"), description="Cache, archive and state folder, relative to the show folder."
    )


class ScheduleException(Section):
    date: _dt.date = Field(description="The date, e.g. 2026-12-25.")
    hours: str = Field(description="'closed' or ranges like '12:00-16:00' for that date.")
    note: str = Field("", description="Why (for the log), e.g. 'Christmas'.")

    @field_validator("hours")
    @classmethod
    def _hours(cls, v: str) -> str:
        return check_hours(v)


class ScheduleSection(Section):
    """Opening hours. Without this section the installation is always open."""

    timezone: str = Field(description="IANA timezone of the hours, e.g. 'Europe/Berlin'.")
    monday: str = Field(
        "closed", description="'closed' or ranges, e.g. '10:00-13:00, 14:00-18:00'."
    )
    tuesday: str = Field("closed", description="As monday.")
    wednesday: str = Field("closed", description="As monday.")
    thursday: str = Field("closed", description="As monday.")
    friday: str = Field("closed", description="As monday.")
    saturday: str = Field("closed", description="As monday.")
    sunday: str = Field("closed", description="As monday. Ranges may not span midnight.")
    warmup_minutes: int = Field(
        30, ge=0, le=720, description="Projectors on and model loaded this long before opening."
    )
    exceptions: list[ScheduleException] = Field(
        default_factory=list, description="Dated closures or special hours; they win over weekdays."
    )

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, v: str) -> str:
        check_timezone(v)
        return v

    @field_validator(*WEEKDAYS)
    @classmethod
    def _hours(cls, v: str) -> str:
        return check_hours(v)

    @model_validator(mode="after")
    def _unique_dates(self) -> ScheduleSection:
        seen: set[_dt.date] = set()
        for e in self.exceptions:
            if e.date in seen:
                raise ValueError(f"exceptions list {e.date} twice; give each date once")
            seen.add(e.date)
        return self

    def build(self) -> Schedule:
        """The pure Schedule the app and the projector controller ask for the phase."""
        return Schedule.build(
            self.timezone,
            {d: getattr(self, d) for d in WEEKDAYS},
            {e.date: e.hours for e in self.exceptions},
            self.warmup_minutes,
        )


class ProjectorEntry(Section):
    name: str = Field(description="A name for logs and the status, e.g. 'left'.")
    host: NumericHost = Field(description="Numeric IP address of the projector.")
    port: int = Field(4352, ge=1, le=65535, description="PJLink TCP port.")
    password: str = Field("", description="PJLink password; empty when authentication is off.")


class ClusterSection(Section):
    """Several nodes in one room: the leader owns the dice; every node flips together."""

    role: Literal["none", "leader", "follower"] = Field(
        "none", description="none: a single node. leader: owns dice and control. follower."
    )
    node: str = Field("", description="This node's name in messages and logs; empty: hostname.")
    listen: ListenAddress = Field(
        "0.0.0.0:9100", description="IP:port for cluster messages (the group port with multicast)."
    )
    peers: list[str] = Field(
        default_factory=list,
        description="IP:port list. Leader: its followers; follower: the leader.",
    )
    multicast: str = Field(
        "", description="Instead of peers: a multicast group:port, e.g. '239.255.42.1:9100'."
    )
    interface: str = Field("", description="With multicast: IP of the network card to use.")
    lookahead_ms: int = Field(
        300, ge=50, le=5000, description="The leader schedules every flip at least this far ahead."
    )
    ready_timeout_s: float = Field(
        10.0, gt=0, le=300, description="Leader: flip without nodes not ready by then (they skip)."
    )
    state_every_s: float = Field(
        1.0, gt=0, le=60, description="Leader: state broadcast period (late nodes catch up)."
    )
    leader_timeout_s: float = Field(
        5.0, gt=0, le=600, description="Follower: no leader for this long: attract mode."
    )

    @field_validator("peers")
    @classmethod
    def _peers(cls, v: list[str]) -> list[str]:
        for peer in v:
            parse_hostport(peer, what="peer")
        return v

    @model_validator(mode="after")
    def _transport(self) -> ClusterSection:
        from installation.core.cluster import check_transport

        check_transport(self.role, self.peers, self.multicast, self.interface)
        return self


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
    osc: OscSection = Field(default_factory=OscSection)  # type: ignore[arg-type]
    cache: CacheSection = Field(default_factory=CacheSection)  # type: ignore[arg-type]
    archive: ArchiveSection = Field(default_factory=ArchiveSection)  # type: ignore[arg-type]
    safety: SafetySection = Field(default_factory=SafetySection)  # type: ignore[arg-type]
    storage: StorageSection = Field(default_factory=StorageSection)  # type: ignore[arg-type]
    schedule: ScheduleSection | None = Field(None, description="Opening hours; none: always open.")
    projectors: list[ProjectorEntry] = Field(default_factory=list, description="PJLink projectors.")
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
    v = show.variations
    return VariationRule(
        seed_mode=v.seed_mode,
        salt=v.salt,
        prompt=v.prompt,
        variants=tuple(tuple(x) for x in v.variants),
        negative_prompt=v.negative_prompt,
        params=RenderParams(v.strength, v.steps, v.guidance, v.width, v.height),
        faces_per_die=show.dice.faces,
        paintings=max(1, len(show.artwork.paintings)),
        approved_only=show.safety.approved_only,
        approved=tuple(parse_approval(a) for a in show.safety.approved),
        blocked_seeds=frozenset(show.safety.blocked_seeds),
    )
