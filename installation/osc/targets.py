"""The cue-target type: one receiver of cues, as the show file's [[osc.targets]] says.

It lives with the OSC namespace so the cue sender needs nothing from show/: the show
schema imports it (show -> osc), never the other way round.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from installation.osc.addresses import AddressTemplates, ArgTemplates, NumericHost


class OscTarget(BaseModel):
    # as every show section: a typo is an error, "9000" is not a port number
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

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
