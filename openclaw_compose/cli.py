"""The ``openclaw-compose`` command line: parse, call one core function, print.

Heavy modules (pydantic, ruamel, docker) are imported inside the commands, so that ``--help``
stays fast. Every command runs under :func:`_handled`, the one place that turns errors into a
message on stderr and an exit code (see :class:`openclaw_compose.errors.ExitCode`).
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, ParamSpec, TypeVar

import typer

from openclaw_compose.errors import ExitCode, OpenclawComposeError

if TYPE_CHECKING:
    from openclaw_compose.core.checks import HostFacts, Report
    from openclaw_compose.core.native import NativeGateway
    from openclaw_compose.core.ports import PortPlan
    from openclaw_compose.targets.compose.runtime import GatewayStatus

app = typer.Typer(
    name="openclaw-compose",
    help="Run several isolated OpenClaw gateways side by side with Docker Compose.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

SpecFile = Annotated[
    Path | None,
    typer.Option(
        "--file",
        "-f",
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
    Literal["compose", "swarm"],
    typer.Option(
        "--target",
        "-t",
        help="compose: one host (compose.yaml); swarm: a Docker Swarm stack (stack.yaml).",
    ),
]

ForceFlag = Annotated[
    bool, typer.Option("--force", help="Overwrite generated files edited by hand.")
]
YesFlag = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before deleting.")]
ReadyTimeout = Annotated[
    float, typer.Option(help="Seconds to wait for every /startupz to answer 200.")
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


def _handled(command: Callable[P, R]) -> Callable[P, R]:
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


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2))


@app.command()
@_handled
def ports(
    file: SpecFile = None,
    as_json: JsonFlag = False,
    home: HomeOption = None,
    ignore_native: IgnoreNative = False,
) -> None:
    """Print every profile's port plan (base, browser control, relay band, CDP range), and
    the native gateways' next to it."""
    from openclaw_compose.core.loading import load_spec
    from openclaw_compose.core.ports import plan_ports

    plan = plan_ports(load_spec(file).spec)
    natives = _host(home, ignore_native).natives
    if as_json:
        _print_json(plan.to_json() | {"native": [native.to_json() for native in natives]})
    else:
        typer.echo(_plan_table(plan, natives))


def _host(home: Path | None, ignore_native: bool) -> HostFacts:
    from openclaw_compose.core.checks import HostFacts

    return HostFacts.from_system(home, natives=not ignore_native)


def _plan_table(plan: PortPlan, natives: Sequence[NativeGateway] = ()) -> str:
    from openclaw_compose.core.ports import format_range

    placed = any(fp.node is not None for fp in plan.footprints)
    node: tuple[str, ...] = ("NODE",) if placed else ()
    native: tuple[str, ...] = ("NATIVE CONFIG",) if natives else ()
    rows = [("PROFILE", *node, "BASE", "BROWSER", "RELAY", "CDP", "EXPLICIT CDP", *native)]
    footprints = [(fp, "") for fp in plan.footprints]
    footprints += [(fp, _native_text(n)) for n in natives if (fp := n.footprint())]
    for fp, config in footprints:
        explicit = ", ".join(f"{name}={port}" for name, port in fp.cdp_ports.items()) or "-"
        node = (fp.node or "-",) if placed else ()
        rows.append(
            (
                fp.profile,
                *node,
                str(fp.base),
                str(fp.browser_control),
                format_range(*fp.extension_relay),
                format_range(*fp.cdp),
                explicit,
                *((config or "-",) if natives else ()),
            )
        )
    return _table(rows)


def _native_text(native: NativeGateway) -> str:
    return f"{native.config_path} ({native.state_text()})"


def _table(rows: Sequence[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


@app.command()
@_handled
def check(
    file: SpecFile = None,
    as_json: JsonFlag = False,
    target: TargetOption = "compose",
    home: HomeOption = None,
    ignore_native: IgnoreNative = False,
) -> None:
    """Check the profiles for port overlaps (per node), shared paths and CDP endpoints, and
    (compose target) against the native gateways of this host.

    Exit code 0 when clean (warnings allowed), 1 when any error.
    """
    from openclaw_compose.core.ports import format_range
    from openclaw_compose.core.project import check_spec, spec_error_report
    from openclaw_compose.errors import SpecError

    natives: tuple[NativeGateway, ...] = ()
    try:
        checked = check_spec(file, _host(home, ignore_native), target=target)
        report, natives = checked.report, checked.natives
    except SpecError as exc:
        report = spec_error_report(exc)
    if as_json:
        _print_json(report.to_json() | {"native": [native.to_json() for native in natives]})
    else:
        for native in natives:
            fp = native.footprint()
            ports = format_range(*fp.span) if fp else "ports unknown"
            typer.echo(f"{native.label}: {ports}, {_native_text(native)}")
        _print_report(report)
    if not report.ok:
        raise typer.Exit(ExitCode.PROBLEMS)


def _print_report(report: Report, *, err: bool = False) -> None:
    for problem in report.problems:
        typer.echo(str(problem), err=err)
    summary = f"{report.errors} error(s), {report.warnings} warning(s)"
    typer.echo(("ok: " if report.ok else "failed: ") + summary, err=err)


def _print_warnings(report: Report) -> None:
    for problem in report.problems:
        typer.echo(str(problem), err=True)


@app.command()
@_handled
def generate(
    *,
    file: SpecFile = None,
    output: ProjectDir = Path(),
    force: ForceFlag = False,
    target: TargetOption = "compose",
    home: HomeOption = None,
    ignore_native: IgnoreNative = False,
) -> None:
    """Check the profiles, then write compose.yaml (or stack.yaml), seed configs and .env tokens."""
    from openclaw_compose.core.contract import COMPOSE_FILE, STACK_FILE
    from openclaw_compose.core.project import check_spec, generate

    checked = check_spec(file, _host(home, ignore_native), target=target)
    result = generate(checked, output, force=force)
    _print_warnings(checked.report)
    for name in result.written:
        typer.echo(f"wrote {output / name}")
    for name in result.removed:
        typer.echo(f"removed {output / name} (its profile is gone)")
    for name in result.kept:
        typer.echo(f"kept {output / name}: its profile is gone but it was edited by hand")
    if not result.written:
        document = STACK_FILE if target == "swarm" else COMPOSE_FILE
        typer.echo(f"{output / document} is up to date")


@app.command()
@_handled
def init(
    file: Annotated[
        Path, typer.Option("--file", "-f", help="Where to write the starter profiles file.")
    ] = Path("openclaw-compose.yaml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented starter profiles file (main + rescue)."""
    from importlib.resources import files

    from openclaw_compose.errors import OutputError

    if file.exists() and not force:
        raise OutputError(f"{file}: already exists; edit it, or use --force to replace it")
    try:
        file.write_text(files(__package__).joinpath("starter.yaml").read_text(), encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"{file}: cannot be written: {exc.strerror}") from None
    typer.echo(f"wrote {file}; next: openclaw-compose check && openclaw-compose generate")


@app.command()
@_handled
def schema() -> None:
    """Print the JSON schema of the profiles file (for editors and CI)."""
    from openclaw_compose.core.spec import Spec

    _print_json(Spec.model_json_schema())


@app.command()
@_handled
def up(
    *,
    file: SpecFile = None,
    output: ProjectDir = Path(),
    timeout: ReadyTimeout = 180,
    force: ForceFlag = False,
    home: HomeOption = None,
    ignore_native: IgnoreNative = False,
) -> None:
    """Check, preflight the host, generate, start every gateway and wait until ready."""
    from openclaw_compose.core.project import check_spec
    from openclaw_compose.engine.client import Engine
    from openclaw_compose.targets.compose.runtime import up as lifecycle_up

    checked = check_spec(file, _host(home, ignore_native))
    _print_warnings(checked.report)
    gateways = lifecycle_up(
        checked, output, Engine(), timeout=timeout, progress=_progress, force=force
    )
    typer.echo(_status_table(gateways))


@app.command()
@_handled
def deploy(
    file: SpecFile = None,
    output: ProjectDir = Path(),
    timeout: ReadyTimeout = 180,
    force: ForceFlag = False,
) -> None:
    """Check (swarm target), place on the swarm's nodes, preflight this node, generate
    stack.yaml, create the token secrets, docker stack deploy, and wait until ready."""
    from openclaw_compose.core.project import check_spec
    from openclaw_compose.engine.client import Engine
    from openclaw_compose.targets.swarm.runtime import deploy as swarm_deploy

    checked = check_spec(file, target="swarm")
    _print_warnings(checked.report)
    gateways = swarm_deploy(
        checked, output, Engine(), timeout=timeout, progress=_progress, force=force
    )
    typer.echo(_status_table(gateways))


@app.command()
@_handled
def undeploy(
    file: SpecFile = None,
    volumes: Annotated[
        bool,
        typer.Option("--volumes", help="Also delete the stack's volumes on this node."),
    ] = False,
    yes: YesFlag = False,
) -> None:
    """Remove the swarm stack: services, networks, seeds, token secrets; volumes are kept
    unless --volumes."""
    from openclaw_compose.core.loading import load_spec
    from openclaw_compose.engine.client import Engine
    from openclaw_compose.targets.swarm.runtime import undeploy as swarm_undeploy

    spec = load_spec(file).spec
    if volumes and not yes:
        _confirm_volume_deletion(f"stack {spec.project!r} on this node")
    swarm_undeploy(spec, Engine(), volumes=volumes, progress=_progress)
    typer.echo(
        f"stack {spec.project!r} is removed"
        + ("; its volumes on this node deleted" if volumes else "; volumes kept")
    )


def _confirm_volume_deletion(owner: str) -> None:
    """Ask before deleting data; no answer (no terminal) aborts with exit code 1."""
    typer.confirm(f"Delete every volume of {owner} (state, config, workspace)?", abort=True)


def _progress(message: str) -> None:
    typer.echo(f"openclaw-compose: {message}", err=True)


def _status_table(gateways: list[GatewayStatus]) -> str:
    placed = any(gw.node for gw in gateways)
    rows: list[tuple[str, ...]] = [
        (
            "PROFILE",
            *(("NODE",) if placed else ()),
            "URL",
            "STATE",
            "HEALTHZ",
            "STARTUPZ",
            "READYZ",
            "TOKEN",
        )
    ]
    for gw in gateways:
        probes = [str(gw.probes[name] or "-") for name in ("healthz", "startupz", "readyz")]
        state = gw.state + (f" ({gw.health})" if gw.health else "")
        node = (gw.node or "-",) if placed else ()
        rows.append((gw.profile, *node, gw.url, state, *probes, gw.token))
    return _table(rows)


@app.command()
@_handled
def down(
    file: SpecFile = None,
    output: ProjectDir = Path(),
    volumes: Annotated[
        bool, typer.Option("--volumes", help="Also delete state, config and workspace volumes.")
    ] = False,
    yes: YesFlag = False,
) -> None:
    """Stop and remove the gateways; volumes are kept unless --volumes."""
    from openclaw_compose.core.loading import load_spec
    from openclaw_compose.engine.client import Engine
    from openclaw_compose.targets.compose.runtime import down as lifecycle_down

    spec = load_spec(file).spec
    if volumes and not yes:
        _confirm_volume_deletion(f"project {spec.project!r}")
    lifecycle_down(spec, output, Engine(), volumes=volumes)
    typer.echo(f"project {spec.project!r} is down" + ("; volumes deleted" if volumes else ""))


@app.command()
@_handled
def status(
    file: SpecFile = None, as_json: JsonFlag = False, target: TargetOption = "compose"
) -> None:
    """Per profile: container (swarm: task) state, /healthz /startupz /readyz, URL and ports."""
    from openclaw_compose.core.loading import load_spec
    from openclaw_compose.core.ports import plan_ports
    from openclaw_compose.engine.client import Engine
    from openclaw_compose.targets.compose.runtime import status as lifecycle_status
    from openclaw_compose.targets.swarm.runtime import status as swarm_status

    spec = load_spec(file).spec
    of = swarm_status if target == "swarm" else lifecycle_status
    gateways = of(spec, plan_ports(spec), Engine())
    if as_json:
        _print_json({"project": spec.project, "profiles": [gw.to_json() for gw in gateways]})
    else:
        typer.echo(_status_table(gateways))


@app.command()
@_handled
def logs(
    profile: Annotated[str, typer.Argument(help="Profile whose gateway logs to show.")],
    file: SpecFile = None,
    output: ProjectDir = Path(),
    follow: Annotated[bool, typer.Option("--follow", "-F", help="Keep following.")] = False,
    tail: Annotated[int, typer.Option(help="Lines from the end.")] = 200,
) -> None:
    """Show a gateway's logs."""
    from openclaw_compose.engine.client import Engine

    _known_profile(file, profile)
    args = ["logs", "--no-log-prefix", "--tail", str(tail)] + (["--follow"] if follow else [])
    raise typer.Exit(Engine().compose_passthrough(output, *args, profile))


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
@_handled
def cli(
    ctx: typer.Context,
    profile: Annotated[str, typer.Argument(help="Profile whose container runs the command.")],
    file: SpecFile = None,
    output: ProjectDir = Path(),
) -> None:
    """Run the openclaw CLI in a profile's container: cli rescue -- gateway status."""
    from openclaw_compose.engine.client import Engine

    _known_profile(file, profile)
    tty = [] if sys.stdin.isatty() and sys.stdout.isatty() else ["-T"]
    code = Engine().compose_passthrough(output, "exec", *tty, profile, "openclaw", *ctx.args)
    raise typer.Exit(code)


def _known_profile(file: Path | None, profile: str) -> None:
    from openclaw_compose.core.loading import load_spec
    from openclaw_compose.errors import UsageError

    profiles = load_spec(file).spec.profiles
    if profile not in profiles:
        raise UsageError(f"no profile {profile!r}; the profiles are: {', '.join(profiles)}")


@app.command("import")
@_handled
def import_(
    profile: Annotated[str, typer.Argument(help="Profile whose volumes receive the gateway.")],
    *,
    source: Annotated[
        Path,
        typer.Option(
            "--from",
            help="The native gateway's state directory, e.g. ~/.openclaw.",
            show_default=False,
        ),
    ],
    file: SpecFile = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace what the profile's volumes already hold.")
    ] = False,
    home: HomeOption = None,
    ignore_native: IgnoreNative = False,
) -> None:
    """Copy a stopped native gateway's state, config and workspace into a profile's volumes
    (the native files are only read); then 'openclaw-compose up'."""
    from openclaw_compose.core.loading import load_spec
    from openclaw_compose.core.native import default_home
    from openclaw_compose.engine.client import Engine
    from openclaw_compose.runtime.importing import import_native

    plan = import_native(
        load_spec(file),
        profile,
        source,
        Engine(),
        host=_host(home, ignore_native),
        home=home or default_home(),
        force=force,
        progress=_progress,
    )
    typer.echo(f"imported the {plan.native.describe()} into profile {profile!r}")
    for change in plan.changes:
        typer.echo(f"changed  {change}")
    for note in plan.notes:
        typer.echo(f"note     {note}")
    typer.echo(
        f"next: openclaw-compose up (with --ignore-native while {plan.native.state_dir} is kept "
        "and the profile uses its ports)"
    )


@app.command()
@_handled
def doctor(
    file: SpecFile = None, home: HomeOption = None, ignore_native: IgnoreNative = False
) -> None:
    """Check the engine, Compose v2, the image, the host ports and the native gateways; exit 1
    if any fails."""
    from openclaw_compose.runtime.doctor import diagnose

    findings = diagnose(file, _host(home, ignore_native))
    for finding in findings:
        typer.echo(f"{'ok  ' if finding.ok else 'FAIL'}  {finding.name}: {finding.detail}")
    if not all(finding.ok for finding in findings):
        raise typer.Exit(ExitCode.PROBLEMS)


def main() -> None:
    app(prog_name="openclaw-compose")


if __name__ == "__main__":
    main()
