"""Curator and artist tools: preview, contact sheets, new shows, the archive."""

from __future__ import annotations

from installation.errors import InstallationError


class CurateError(InstallationError, ValueError):
    """A curator tool was given something it cannot use; the message says what would work."""
