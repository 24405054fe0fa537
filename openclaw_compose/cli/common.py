"""What every command group shares: the typer app, the options, the one error handler
(:func:`handled`: an error becomes a message on stderr and its exit code, see
:class:`openclaw_compose.errors.ExitCode`), the engine connection and the printing helpers."""

from __future__ import annotations

import functools
import json
import math
import stat
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, TypeVar

import typer

from openclaw_compose.errors import ExitCode, OpenclawComposeError, shown
from openclaw_compose.targets import target_names

if TYPE_CHECKING:
    from openclaw_compose.core.checks import HostFacts, Report
    from openclaw_compose.core.spec import Spec
    from openclaw_compose.engine import Engine
    from openclaw_compose.project import CheckedSpec


app = typer.Typer(
    name="openclaw-compose",
    help="Run several isolated OpenClaw gateways side by side with Docker Compose.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def regular_file(value: Path | None) -> Path | None:
    """A file option checked when the command line is parsed, without opening it (a FIFO
    would block): when it exists, a regular file (a FIFO, a device or a directory is refused)."""
    if value is None:
        return None
    try:
        mode = value.stat().st_mode
    except OSError:
        return value
    if not stat.S_ISREG(mode):
        raise typer.BadParameter(f"{shown(value)} is not a regular file")
    return value


SpecFile = Annotated[
    Path | None,
    typer.Option(
        "--file",
        "-f",
        callback=regular_file,
        help="Profiles file [default: ./openclaw-compose.yaml, else the embedded main + rescue].",
        show_default=False,
    ),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
ProjectDir = Annotated[
    Path,
    typer.Option("--output", "-o", help="Directory of the generated project [default: .]."),
]

TargetOption = Annotated[
    str,
    typer.Option(
        "--target",
        "-t",
        help=f"What to generate and run: {', '.join(target_names())}.",
    ),
]

ForceFlag = Annotated[
    bool, typer.Option("--force", help="Overwrite generated files edited by hand.")
]
YesFlag = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before deleting.")]
MAX_SECONDS = 86_400.0


def seconds(value: float) -> float:
    """A timeout checked when the command line is parsed: a finite 1 s to 24 h."""
    if not math.isfinite(value) or not 1 <= value <= MAX_SECONDS:
        raise typer.BadParameter(f"give seconds from 1 to {MAX_SECONDS:.0f} (got {value})")
    return value


ReadyTimeout = Annotated[
    float,
    typer.Option(help="Seconds to wait for every /startupz to answer 200.", callback=seconds),
]

HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home",
        help="Whose native OpenClaw gateways the checks count: that user's home directory "
        "[default: yours].",
        show_default=False,
    ),
]
IgnoreNative = Annotated[
    bool,
    typer.Option(
        "--ignore-native",
        help="Do not look for native OpenClaw gateways on this host (one you have removed but "
        "whose files you keep, or one you just imported and will not run again).",
    ),
]

P = ParamSpec("P")
R = TypeVar("R")


def handled(command: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except OpenclawComposeError as exc:
            typer.echo(f"error: {exc.message}", err=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            raise typer.Exit(ExitCode.INTERRUPTED) from None

    return run


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2))


def host_facts(home: Path | None, ignore_native: bool) -> HostFacts:
    from openclaw_compose.core.checks import HostFacts
    from openclaw_compose.errors import UsageError

    if home is not None and not home.is_dir():
        raise UsageError(f"--home {home}: not a directory (give a user's home directory)")
    return HostFacts.from_system(home, natives=not ignore_native)


def table(rows: Sequence[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def with_secret_warnings(checked: CheckedSpec, directory: Path) -> Report:
    """``secret-missing`` is a warning until gateways start (``up``/``deploy`` refuse)."""
    from openclaw_compose.core.checks import Report
    from openclaw_compose.core.secretstore import missing_secrets

    missing = missing_secrets(checked.loaded.spec, directory, "warning")
    return Report(checked.report.problems + tuple(missing))


def print_report(report: Report, *, err: bool = False) -> None:
    for problem in report.problems:
        typer.echo(str(problem), err=err)
    summary = f"{report.errors} error(s), {report.warnings} warning(s)"
    typer.echo(("ok: " if report.ok else "failed: ") + summary, err=err)


def print_warnings(report: Report) -> None:
    for problem in report.problems:
        typer.echo(str(problem), err=True)


def connect() -> Engine:
    """The Docker engine the commands use (``DOCKER_HOST`` or the local socket)."""
    from openclaw_compose.engine import DockerEngine

    return DockerEngine()


def progress(message: str) -> None:
    typer.echo(f"openclaw-compose: {message}", err=True)


def checked_version(version: str) -> str:
    from openclaw_compose.core.spec import check_version
    from openclaw_compose.errors import UsageError

    try:
        return check_version(version)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def known_profile(file: Path | None, profile: str) -> Spec:
    """The spec, which must have ``profile``."""
    from openclaw_compose.core.loading import load_spec
    from openclaw_compose.errors import UsageError

    spec = load_spec(file).spec
    if profile not in spec.profiles:
        raise UsageError(f"no profile {profile!r}; the profiles are: {', '.join(spec.profiles)}")
    return spec
