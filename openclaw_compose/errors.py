"""Every error a user can cause, and the exit code it ends the program with.

The CLI has exactly one handler (``cli.common.handled``) that turns these into a message on
stderr and an exit code; nothing else prints errors or exits. Messages say what is wrong, where
(file, profile, field, port) and what to do about it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes of ``openclaw-compose``; documented in the README."""

    OK = 0
    PROBLEMS = 1  # the spec has errors: schema, YAML, or a failed check
    USAGE = 2  # bad command line, or an input file that cannot be read
    OUTPUT = 3  # the output cannot be written (not a directory, read-only, hand-edited file)
    DOCKER = 4  # the Docker engine or Compose failed, or is missing
    NOT_READY = 5  # gateways started but did not become ready in time
    UPGRADE_FAILED = 6  # a profile failed on the new version and was rolled back
    ARCHIVE = 7  # a backup archive is unreadable, damaged, too new, or would overwrite data
    NOT_RUNNING = 8  # a gateway is not running and healthy (status), or not running (cli, ...)
    NOT_OWNER = 9  # the project name's objects belong to another profiles file
    CHANGES = 10  # plan: up/deploy would change something (0: nothing to do)
    INTERRUPTED = 130


def shown(name: object) -> str:
    """``name`` (a path, usually) printable whatever its bytes: undecodable bytes, line breaks
    and other control characters as escapes."""
    text = str(name)
    return text if text.isprintable() else repr(text)[1:-1]


def plural(count: int, word: str) -> str:
    """``1 error``, ``2 errors``: a count with its noun."""
    return f"{count} {word}{'' if count == 1 else 's'}"


class OpenclawComposeError(Exception):
    """Base class: a message for the user and the exit code that goes with it."""

    exit_code: ExitCode = ExitCode.PROBLEMS

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(OpenclawComposeError):
    """The command line or an input path is wrong."""

    exit_code = ExitCode.USAGE


@dataclass(frozen=True)
class SpecIssue:
    """One thing wrong with a profiles file: the field path, what is wrong, and the line."""

    path: str
    message: str
    line: int | None = None

    @property
    def profile(self) -> str | None:
        """The profile the field belongs to, when it is under ``profiles.<name>``."""
        head, _, rest = self.path.partition(".")
        return rest.partition(".")[0] or None if head == "profiles" else None

    def __str__(self) -> str:
        where = f" (line {self.line})" if self.line else ""
        prefix = f"{self.path}: " if self.path else ""
        return f"{prefix}{self.message}{where}"


class SpecError(OpenclawComposeError):
    """The profiles file cannot be parsed (``code`` ``yaml``) or does not validate (``schema``)."""

    def __init__(self, source: str, code: str, issues: list[SpecIssue]) -> None:
        self.source = source
        self.code = code
        self.issues = issues
        super().__init__(
            f"{source} is not a valid profiles file:\n" + "\n".join(f"  {i}" for i in issues)
        )


class ChecksFailed(OpenclawComposeError):
    """The checks (or the host preflight) found errors; ``problems`` are their report lines."""

    def __init__(self, problems: list[str], errors: int) -> None:
        self.problems = problems
        super().__init__(
            f"{plural(errors, 'error')} found; nothing was written or started. Fix them and run "
            "the command again:\n" + "\n".join(f"  {problem}" for problem in problems)
        )


class ImportRefused(OpenclawComposeError):
    """``import`` will not copy: the native gateway runs, or the profile's trees hold files."""


class OutputError(OpenclawComposeError):
    """The generated project cannot be written where it was asked for."""

    exit_code = ExitCode.OUTPUT


class DockerError(OpenclawComposeError):
    """The Docker engine or Compose refused, failed or is missing."""

    exit_code = ExitCode.DOCKER


class EngineUnreachable(DockerError):
    """No Docker engine answers (not running, wrong ``DOCKER_HOST``, no permission)."""


class NotFound(DockerError):
    """The engine has no such object (container, image, volume, secret, ...)."""


class Refused(DockerError):
    """The engine answered and refused (an object in use, a bad request, a conflict)."""


class CommandFailed(DockerError):
    """A ``docker`` CLI command (compose, stack) exited non-zero, or could not be run."""


class ImageMissing(DockerError):
    """An image the spec needs is not on the engine (and no registry is asked for it)."""


class NotReadyError(OpenclawComposeError):
    """Gateways were started but did not answer their readiness probe in time."""

    exit_code = ExitCode.NOT_READY


class ArchiveError(OpenclawComposeError):
    """A backup archive cannot be used: unreadable, wrong checksum, from a newer OpenClaw than
    the image, or its target holds data and ``--force`` was not given."""

    exit_code = ExitCode.ARCHIVE


class UpgradeFailed(OpenclawComposeError):
    """A profile did not come up on the new version; it was restored and runs the old one."""

    exit_code = ExitCode.UPGRADE_FAILED


class NotRunning(OpenclawComposeError):
    """A gateway the command needs is not running (or, for ``status``, not healthy)."""

    exit_code = ExitCode.NOT_RUNNING


class NotOwner(OpenclawComposeError):
    """The project's containers and volumes belong to another profiles file."""

    exit_code = ExitCode.NOT_OWNER
