"""Show file sections for the room: opening hours, projectors and a cluster of nodes.

Split from schema.py (which re-exports them) to keep each module readable.
"""

from __future__ import annotations

import datetime as _dt
from typing import Literal

from pydantic import Field, field_validator, model_validator

from installation.core.schedule import WEEKDAYS, Schedule, check_hours, check_timezone
from installation.osc.addresses import ListenAddress, NumericHost, parse_hostport
from installation.show.schema_base import Section


class ScheduleException(Section):
    date: _dt.date = Field(description="The date, e.g. 2026-12-25.")
    hours: str = Field(description="'closed' or ranges like '12:00-16:00' for that date.")
    note: str = Field("", max_length=200, description="Why (for the log), e.g. 'Christmas'.")

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
        default_factory=list,
        max_length=1000,
        description="Dated closures or special hours; they win over weekdays.",
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
        max_length=64,
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
        10.0,
        ge=0.5,
        le=300,
        description="Leader: flip without nodes not ready by then (they skip).",
    )
    state_every_s: float = Field(
        1.0, ge=0.1, le=60, description="Leader: state broadcast period (late nodes catch up)."
    )
    leader_timeout_s: float = Field(
        5.0,
        ge=0.5,
        le=600,
        description="Follower: no leader for this long: attract mode. Longer than state_every_s.",
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
