"""One exception base, one subclass per subsystem.

Everything the installation raises on purpose derives from InstallationError, so
the app can catch "our" failures apart from bugs. Subclasses that describe bad
input also derive from ValueError.
"""

from __future__ import annotations

from dataclasses import dataclass


class InstallationError(Exception):
    """Base for every error the installation raises on purpose."""


@dataclass(frozen=True)
class ShowIssue:
    """One problem in a show file, located for a curator."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ShowError(InstallationError, ValueError):
    """A show folder that cannot be loaded. Carries every issue found, not just the first."""

    def __init__(self, issues: list[ShowIssue]) -> None:
        self.issues = list(issues)
        super().__init__("\n".join(str(i) for i in self.issues))


class DiceError(InstallationError):
    """Serial dice link problems (port missing, protocol mismatch)."""


class ProtocolMismatch(DiceError, ValueError):
    """A device speaks another protocol version than the host."""


class ImageFileError(InstallationError, ValueError):
    """An image file that is missing, unreadable or not an image; the message names it.

    Engines (paintings, masks) and the kiosk (the standby poster) both raise it: a missing
    poster is not an engine failure."""


class EngineError(InstallationError):
    """Generation engine could not load or render."""


class ModelError(EngineError, ValueError):
    """A model folder or checkpoint is missing, incomplete or of the wrong family."""


class UnsafeImage(EngineError):
    """The safety checker flagged an image: it must never be shown; re-roll instead."""


class OscError(InstallationError):
    """OSC configuration or transport problems."""


class DisplayError(InstallationError):
    """The kiosk could not open a display."""


class BadImage(DisplayError, ValueError):
    """An image the kiosk cannot show (wrong shape or dtype)."""


class ProjectorError(InstallationError):
    """A projector could not be reached or refused a command."""


class ProjectorAuthError(ProjectorError):
    """Wrong or missing PJLink password."""


class ProjectorBusy(ProjectorError):
    """ERR3: the projector is warming up or cooling down; try again later."""


class CurateError(InstallationError, ValueError):
    """A curator tool was given something it cannot use; the message says what would work."""


class OutputPathError(InstallationError, ValueError):
    """A user-named output (-o, --to) that is not a file or folder we may write: a device,
    a FIFO, a symlink, a folder where a file was meant, or a missing folder without
    --parents. The message names the path, what it is and what is accepted."""


class StorageError(InstallationError):
    """The storage folder cannot be used (read-only, not writable, not creatable); the
    message says how to fix it."""


class StorageBusy(StorageError):
    """Another kiosk holds the storage folder's lock: one kiosk per storage. `tool` names
    the command holding it when that is a tool (prerender, preview, sheet), not a kiosk."""

    def __init__(self, message: str, tool: str | None = None) -> None:
        super().__init__(message)
        self.tool = tool
