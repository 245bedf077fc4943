"""The base of every show file section (kept apart so section modules can share it)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """extra="forbid": a typo is an error. strict: "3" is not a number, "yes" not a bool."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
