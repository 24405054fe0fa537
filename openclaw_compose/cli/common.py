"""What every command group shares: the typer app, the options, the one error handler
(:func:`handled`: an error becomes a message on stderr and its exit code, see
:class:`openclaw_compose.errors.ExitCode`), the engine connection and the printing helpers."""

from __future__ import annotations

import functools
import json
import math
import os
import stat
import sys
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, TypeVar

import typer

from openclaw_compose.errors import ExitCode, OpenclawComposeError, plural, shown
from openclaw_compose.targets import target_names

if TYPE_CHECKING:
    from openclaw_compose.core.checks import HostFacts, Problem, Report
    from openclaw_compose.core.loading import LoadedSpec
    from openclaw_compose.core.spec import Spec
    from openclaw_compose.engine import Engine
    from openclaw_compose.project import CheckedSpec


app = typer.Typer(
    name="openclaw-compose",
    help="Run several isolated OpenClaw gateways side by side with Docker Compose.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@dataclass
class Output:
    """How this run prints: the global ``--quiet`` and ``--no-color`` (or ``NO_COLOR``)."""

    quiet: bool = False
    color: bool = True
    live_lines: int = 0
    """How many live lines (:func:`live`) stand at the bottom of the terminal now."""

    def terminal(self, err: bool = True) -> bool:
        """Whether that stream is a terminal that may get escape sequences."""
        stream = sys.stderr if err else sys.stdout
        return self.color and stream.isatty()

    def clear_live(self) -> str:
        """The escape sequences that erase the live lines (none when there are none)."""
        lines, self.live_lines = self.live_lines, 0
        return f"\x1b[{lines}F\x1b[J" if lines else ""


output = Output()
"""Set by the global options of each run (:func:`global_options`)."""


def _given_globally(ctx: typer.Context, param: typer.CallbackParam, value: Any, name: str) -> Any:
    """The value of a per-command option that the global option of the same meaning (before
    the command) may give instead; both given and different is a usage error."""
    root = ctx.find_root()
    glob = root.params.get(name) if root is not ctx else None
    if glob is None:
        return value
    source = ctx.get_parameter_source(param.name or "")
    if getattr(source, "name", None) == "COMMANDLINE" and value != glob:
        raise typer.BadParameter(f"{value} after the command, {glob} before it: give it once")
    return glob


def file_option(ctx: typer.Context, param: typer.CallbackParam, value: Path | None) -> Any:
    return _given_globally(ctx, param, regular_file(value), "file")


def _directory_option(ctx: typer.Context, param: typer.CallbackParam, value: Path) -> Any:
    return _given_globally(ctx, param, value, "project_directory")


def _print_version(value: bool) -> None:
    if value:
        try:
            typer.echo(f"openclaw-compose {installed_version('openclaw-compose')}")
        except PackageNotFoundError:  # pragma: no cover - run from a source tree
            typer.echo("openclaw-compose (not installed)")
        raise typer.Exit


@app.callback()
def global_options(
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            "-f",
            callback=regular_file,
            help="Profiles file [default: ./openclaw-compose.yaml, else the embedded main + "
            "rescue].",
            show_default=False,
        ),
    ] = None,
    project_directory: Annotated[
        Path | None,
        typer.Option(
            "--project-directory",
            "-o",
            "--output",
            help="Directory of the generated project (compose.yaml, .env) [default: the "
            "current one].",
            show_default=False,
        ),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print no progress, only results and errors.")
    ] = False,
    no_color: Annotated[
        bool,
        typer.Option(
            "--no-color",
            help="No colours or terminal escape sequences (also when NO_COLOR is set).",
        ),
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            help="Print the version and exit.",
            callback=_print_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """Run several isolated OpenClaw gateways side by side with Docker Compose.

    Global options go before the command: openclaw-compose -f FILE COMMAND."""
    del file, project_directory, version  # read by the commands' own options
    output.quiet = quiet
    output.color = not (no_color or os.environ.get("NO_COLOR"))


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
        help="Profiles file [default: ./openclaw-compose.yaml, else the embedded main + "
        "rescue]; also accepted before the command.",
        show_default=False,
        callback=file_option,
    ),
]
SpecFileLong = Annotated[
    Path | None,
    typer.Option(
        "--file",
        help="Profiles file (-f FILE before the command; -f after it is --follow).",
        show_default=False,
        callback=file_option,
    ),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
ProjectDir = Annotated[
    Path,
    typer.Option(
        "--output",
        "-o",
        help="Directory of the generated project (or --project-directory before the command).",
        callback=_directory_option,
    ),
]

TargetOption = Annotated[
    str,
    typer.Option(
        "--target",
        "-t",
        help=f"What to generate and run: {', '.join(target_names())}.",
    ),
]
TargetOptionLong = Annotated[
    str,
    typer.Option("--target", help=f"What runs the gateways: {', '.join(target_names())}."),
]
"""``--target`` without ``-t`` (``logs -t`` is ``--timestamps``, as in docker compose)."""

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
            if "file" in kwargs and kwargs["file"] is None:
                say_if_embedded()
            return command(*args, **kwargs)
        except OpenclawComposeError as exc:
            typer.echo(f"error: {exc.message}", err=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            raise typer.Exit(ExitCode.INTERRUPTED) from None

    return run


def say_if_embedded() -> None:
    """Say (on stderr) that a command without ``-f`` uses the embedded default, when the
    current directory has no profiles file."""
    from openclaw_compose.core.loading import DEFAULT_SPEC_FILE

    if not (Path.cwd() / DEFAULT_SPEC_FILE).exists():
        progress(
            f"no {DEFAULT_SPEC_FILE} here: using the embedded default (profiles main and "
            "rescue, project 'openclaw'); write your own with 'openclaw-compose init'"
        )


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2))


def host_facts(home: Path | None, ignore_native: bool) -> HostFacts:
    from openclaw_compose.errors import UsageError
    from openclaw_compose.host.system import host_facts as read_host

    if home is not None and not home.is_dir():
        raise UsageError(f"--home {home}: not a directory (give a user's home directory)")
    return read_host(home, natives=not ignore_native)


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


def fragments_checked(loaded: LoadedSpec) -> tuple[Problem, ...]:
    """``openclaw-schema``: the fragments against OpenClaw's schema, taken from the images
    first where it is not cached yet (without an engine: the cache only)."""
    from openclaw_compose.core.fragment_checks import fragment_problems
    from openclaw_compose.errors import DockerError
    from openclaw_compose.runtime.schemas import fetch_schemas

    with suppress(DockerError):
        fetch_schemas(loaded.spec, connect())
    return tuple(fragment_problems(loaded))


def print_report(report: Report, *, err: bool = False) -> None:
    for problem in report.problems:
        typer.echo(str(problem), err=err)
    summary = f"{plural(report.errors, 'error')}, {plural(report.warnings, 'warning')}"
    typer.echo(("ok: " if report.ok else "failed: ") + summary, err=err)


def print_warnings(report: Report) -> None:
    for problem in report.problems:
        typer.echo(str(problem), err=True)


def connect() -> Engine:
    """The Docker engine the commands use (``DOCKER_HOST`` or the local socket)."""
    from openclaw_compose.engine import DockerEngine

    return DockerEngine()


def progress(message: str) -> None:
    if not output.quiet:
        sys.stderr.write(output.clear_live())  # typer.echo would drop the escape sequences
        typer.echo(f"openclaw-compose: {message}", err=True)


def live(lines: Sequence[str]) -> None:
    """Redraw the state lines in place, on a terminal only (not piped, not --quiet, not
    --no-color/NO_COLOR: those get the progress lines alone)."""
    if output.quiet or not output.terminal(err=True):
        return
    text = output.clear_live() + "".join(f"  {line}\n" for line in lines)
    output.live_lines = len(lines)
    sys.stderr.write(text)
    sys.stderr.flush()


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

    spec = load_spec(file).spec
    known_profiles(spec, [profile])
    return spec


def known_profiles(spec: Spec, names: Sequence[str]) -> list[str]:
    """``names`` (each once, in order), which must all be profiles of ``spec``."""
    from openclaw_compose.errors import UsageError

    unknown = [name for name in names if name not in spec.profiles]
    if unknown:
        raise UsageError(
            f"no profile {', '.join(map(repr, unknown))}; the profiles are: "
            f"{', '.join(spec.profiles)}"
        )
    return list(dict.fromkeys(names))
