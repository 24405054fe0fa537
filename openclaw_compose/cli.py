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
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, TypeVar

import typer

from openclaw_compose.errors import ExitCode, OpenclawComposeError
from openclaw_compose.targets import DEFAULT_TARGET, target_names

if TYPE_CHECKING:
    from openclaw_compose.core.checks import HostFacts, Report
    from openclaw_compose.core.native import NativeGateway
    from openclaw_compose.core.ports import PortPlan
    from openclaw_compose.core.spec import Spec
    from openclaw_compose.engine import Engine
    from openclaw_compose.project import CheckedSpec
    from openclaw_compose.targets.base import GatewayStatus

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

ENTRYPOINT = "openclaw-compose-entrypoint"
"""The image's entrypoint (images/gateway/): ``--exec ARGS`` runs the openclaw CLI with the
gateway's token and secrets exported."""

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
    from openclaw_compose.errors import UsageError

    if home is not None and not home.is_dir():
        raise UsageError(f"--home {home}: not a directory (give a user's home directory)")
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
    *,
    file: SpecFile = None,
    as_json: JsonFlag = False,
    target: TargetOption = DEFAULT_TARGET,
    output: ProjectDir = Path(),
    home: HomeOption = None,
    ignore_native: IgnoreNative = False,
) -> None:
    """Check the profiles for port overlaps (per node), shared paths and CDP endpoints, the
    project's store (-o DIR) for secrets without a value, and (compose) the profiles against
    the native gateways of this host.

    Exit code 0 when clean (warnings allowed), 1 when any error.
    """
    from openclaw_compose.core.ports import format_range
    from openclaw_compose.errors import SpecError
    from openclaw_compose.project import check_spec, spec_error_report

    natives: tuple[NativeGateway, ...] = ()
    try:
        checked = check_spec(file, _host(home, ignore_native), target=target)
        report, natives = _with_secret_warnings(checked, output), checked.natives
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


def _with_secret_warnings(checked: CheckedSpec, directory: Path) -> Report:
    """``secret-missing`` is a warning until gateways start (``up``/``deploy`` refuse)."""
    from openclaw_compose.core.checks import Report
    from openclaw_compose.core.secretstore import missing_secrets

    missing = missing_secrets(checked.loaded.spec, directory, "warning")
    return Report(checked.report.problems + tuple(missing))


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
    target: TargetOption = DEFAULT_TARGET,
    home: HomeOption = None,
    ignore_native: IgnoreNative = False,
) -> None:
    """Check the profiles, then write compose.yaml (or stack.yaml), seed configs and .env tokens."""
    from openclaw_compose.project import check_spec, generate

    checked = check_spec(file, _host(home, ignore_native), target=target)
    result = generate(checked, output, force=force)
    _print_warnings(_with_secret_warnings(checked, output))
    for note in result.notes:
        typer.echo(f"note: {note}", err=True)
    for name in result.written:
        typer.echo(f"wrote {output / name}")
    for name in result.removed:
        typer.echo(f"removed {output / name} (its profile is gone)")
    for name in result.kept:
        typer.echo(f"kept {output / name}: its profile is gone but it was edited by hand")
    if not result.written:
        typer.echo(f"{output / checked.target.document} is up to date")


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


def connect() -> Engine:
    """The Docker engine the commands use (``DOCKER_HOST`` or the local socket)."""
    from openclaw_compose.engine import DockerEngine

    return DockerEngine()


def _start(
    file: Path | None,
    output: Path,
    timeout: float,
    force: bool,
    target: str,
    *,
    host: HostFacts | None = None,
) -> None:
    from openclaw_compose.project import check_spec
    from openclaw_compose.runtime import pipeline

    checked = check_spec(file, host, target=target)
    _print_warnings(checked.report)
    gateways = pipeline.up(
        checked, output, connect(), timeout=timeout, progress=_progress, force=force
    )
    typer.echo(_status_table(gateways))


@app.command()
@_handled
def build(
    file: SpecFile = None,
    version: Annotated[
        str | None,
        typer.Option(
            "--version", help="Build this OpenClaw version's images instead of the file's."
        ),
    ] = None,
    browser: Annotated[
        bool, typer.Option("--browser", help="Also the browser variant of every version.")
    ] = False,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Rebuild existing images.")] = False,
) -> None:
    """Build every gateway image the profiles need (images/build.sh; offline, cached by tag)."""
    from openclaw_compose.core.loading import load_spec
    from openclaw_compose.core.spec import gateway_image
    from openclaw_compose.runtime.images import build as build_images
    from openclaw_compose.runtime.images import buildable

    spec = load_spec(file).spec
    if version is not None:
        spec = spec.at_version(_checked_version(version))
    recipes = buildable(spec)
    if browser:
        recipes |= {gateway_image(v, browser=True): (v, True) for v, _ in recipes.values()}
    if not recipes:
        typer.echo("nothing to build: every profile runs an image of your own ('image:')")
        return
    build_images(recipes, _progress, rebuild=rebuild)
    typer.echo(f"ready: {', '.join(sorted(recipes))}")


@app.command()
@_handled
def up(
    *,
    file: SpecFile = None,
    output: ProjectDir = Path(),
    timeout: ReadyTimeout = 180,
    force: ForceFlag = False,
    target: TargetOption = DEFAULT_TARGET,
    home: HomeOption = None,
    ignore_native: IgnoreNative = False,
) -> None:
    """Check, preflight, generate, start every gateway and wait until ready."""
    _start(file, output, timeout, force, target, host=_host(home, ignore_native))


@app.command()
@_handled
def deploy(
    file: SpecFile = None,
    output: ProjectDir = Path(),
    timeout: ReadyTimeout = 180,
    force: ForceFlag = False,
) -> None:
    """Swarm: 'up --target swarm': check, place on the swarm's nodes, preflight, generate
    stack.yaml, create the token secrets, docker stack deploy, and wait until ready."""
    _start(file, output, timeout, force, "swarm")


@app.command()
@_handled
def push(file: SpecFile = None) -> None:
    """Swarm: tag and push every image the stack uses to the profiles file's 'registry:', and
    print the digest reference each node pulls (deploy does this itself)."""
    from openclaw_compose.core.loading import load_spec
    from openclaw_compose.errors import UsageError
    from openclaw_compose.runtime.images import require_images
    from openclaw_compose.targets.swarm.images import push_images

    loaded = load_spec(file)
    if loaded.spec.registry is None:
        raise UsageError(
            f"{loaded.source}: no 'registry:' to push to; add 'registry: HOST:PORT' (a Docker "
            "registry every swarm node reaches)"
        )
    engine = connect()
    require_images(loaded.spec, engine)
    for image, reference in push_images(loaded.spec, engine, _progress).items():
        typer.echo(f"{image} -> {reference}")


def _stop(file: Path | None, output: Path, volumes: bool, yes: bool, target: str) -> None:
    from openclaw_compose.core.loading import load_spec
    from openclaw_compose.runtime import pipeline
    from openclaw_compose.targets import get_target

    chosen = get_target(target)
    spec = load_spec(file).spec
    if volumes and not yes:
        typer.confirm(
            f"Delete every volume of project {spec.project!r} (state, config, workspace; "
            f"target {chosen.name})?",
            abort=True,
        )
    typer.echo(pipeline.down(spec, output, connect(), chosen, volumes=volumes, progress=_progress))


VolumesFlag = Annotated[
    bool,
    typer.Option("--volumes", help="Also delete state, config and workspace volumes (this node)."),
]


@app.command()
@_handled
def down(
    file: SpecFile = None,
    output: ProjectDir = Path(),
    volumes: VolumesFlag = False,
    yes: YesFlag = False,
    target: TargetOption = DEFAULT_TARGET,
) -> None:
    """Stop and remove the gateways; volumes are kept unless --volumes."""
    _stop(file, output, volumes, yes, target)


@app.command()
@_handled
def undeploy(
    file: SpecFile = None,
    output: ProjectDir = Path(),
    volumes: VolumesFlag = False,
    yes: YesFlag = False,
) -> None:
    """Swarm: 'down --target swarm': remove the stack (services, networks, seeds, token
    secrets); volumes are kept unless --volumes."""
    _stop(file, output, volumes, yes, "swarm")


def _progress(message: str) -> None:
    typer.echo(f"openclaw-compose: {message}", err=True)


def _status_table(gateways: list[GatewayStatus]) -> str:
    placed = any(gw.node for gw in gateways)
    rows: list[tuple[str, ...]] = [
        (
            "PROFILE",
            *(("NODE",) if placed else ()),
            "VERSION",
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
        node = (f"{gw.node} ({gw.address})" if gw.node else "-",) if placed else ()
        rows.append((gw.profile, *node, gw.version or "-", gw.url, state, *probes, gw.token))
    return _table(rows)


@app.command()
@_handled
def status(
    file: SpecFile = None, as_json: JsonFlag = False, target: TargetOption = DEFAULT_TARGET
) -> None:
    """Per profile: container (swarm: task) state, /healthz /startupz /readyz, URL and ports."""
    from openclaw_compose.core.loading import load_spec
    from openclaw_compose.core.ports import plan_ports
    from openclaw_compose.runtime import pipeline
    from openclaw_compose.targets import get_target

    chosen = get_target(target)
    spec = load_spec(file).spec
    gateways = pipeline.status(spec, plan_ports(spec), connect(), chosen)
    if as_json:
        _print_json({"project": spec.project, "profiles": [gw.to_json() for gw in gateways]})
    else:
        typer.echo(_status_table(gateways))


@app.command()
@_handled
def backup(
    profiles: Annotated[
        list[str] | None, typer.Argument(help="Profiles to back up.", show_default=False)
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Back up every profile.")] = False,
    file: SpecFile = None,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Directory for the archives [default: .].")
    ] = Path(),
    target: TargetOption = DEFAULT_TARGET,
) -> None:
    """One archive per profile of its state, config and workspace (openclaw backup create
    --verify, while the gateway runs), with its OpenClaw version and a checksum."""
    from openclaw_compose.core.loading import load_spec
    from openclaw_compose.errors import UsageError
    from openclaw_compose.runtime.backup import backup_profile
    from openclaw_compose.targets import get_target

    runs_on = get_target(target)
    spec = load_spec(file).spec
    names = list(spec.profiles) if every else list(profiles or [])
    if not names or (every and profiles):
        raise UsageError("name the profiles to back up, or use --all (not both)")
    for name in names:
        _known_profile(file, name)
    runtime = runs_on.runtime(connect())
    for name in names:
        made = backup_profile(spec, name, runtime, output)
        how = "live, next to its running gateway" if made.live else "from its stopped trees"
        typer.echo(
            f"{name}: {made.path} (OpenClaw {made.manifest.openclaw_version}, "
            f"{made.manifest.size / 1024:.0f} KiB, {made.seconds:.1f} s, {how})"
        )


@app.command()
@_handled
def restore(
    profile: Annotated[str, typer.Argument(help="Profile to restore into.")],
    archive: Annotated[Path, typer.Argument(help="An archive written by 'backup'.")],
    *,
    file: SpecFile = None,
    output: ProjectDir = Path(),
    force: Annotated[
        bool, typer.Option("--force", help="Replace the profile's existing state.")
    ] = False,
    target: TargetOption = DEFAULT_TARGET,
) -> None:
    """Put a backup back: checksum checked, never from a newer OpenClaw than the image, never
    over existing state without --force. A running gateway is stopped for it and started again."""
    from openclaw_compose.runtime.backup import restore_profile
    from openclaw_compose.targets import get_target

    runs_on = get_target(target)
    spec = _known_profile(file, profile)
    engine = connect()
    runtime = runs_on.runtime(engine)
    done = restore_profile(spec, profile, archive, (engine, runtime, output), force=force)
    typer.echo(
        f"{profile}: restored {archive.name} (OpenClaw {done.manifest.openclaw_version}, "
        f"from profile {done.manifest.profile!r} of project {done.manifest.project!r})"
    )
    if done.stopped:
        runtime.start_gateway(spec, output, profile)
        typer.echo(f"{profile}: started again; check it with 'openclaw-compose status'")


@app.command()
@_handled
def upgrade(
    *,
    to: Annotated[
        str | None, typer.Option("--to", help="OpenClaw version to upgrade to (built here).")
    ] = None,
    image: Annotated[
        str | None, typer.Option("--image", help="An image of your own to upgrade to.")
    ] = None,
    file: SpecFile = None,
    output: ProjectDir = Path(),
    timeout: Annotated[
        float, typer.Option(help="Seconds each profile may take to answer on the new version.")
    ] = 300,
    backups: Annotated[
        Path | None,
        typer.Option(help="Where the backups made first go [default: OUTPUT/backups]."),
    ] = None,
    target: TargetOption = DEFAULT_TARGET,
) -> None:
    """Upgrade the running gateways one at a time, rescues first: back up, start on the new
    image (swarm: a rolling update that swarm rolls back itself), wait for /startupz and a clean
    doctor; on failure restore that profile's state on its old image and stop."""
    from openclaw_compose.core.loading import load_spec
    from openclaw_compose.errors import UsageError
    from openclaw_compose.runtime.upgrade import Destination
    from openclaw_compose.runtime.upgrade import upgrade as run_upgrade
    from openclaw_compose.targets import get_target

    runs_on = get_target(target)
    if (to is None) == (image is None):
        raise UsageError("give either --to VERSION or --image REF")
    destination = Destination(version=_checked_version(to) if to else None, image=image)
    loaded = load_spec(file)
    done = run_upgrade(
        loaded,
        output,
        connect(),
        destination,
        target=runs_on,
        timeout=timeout,
        backups=backups or output / "backups",
        progress=_progress,
    )
    for step in done:
        typer.echo(f"{step.profile}: {step.old_image} -> {step.new_image} in {step.seconds:.1f} s")
    typer.echo(f"every profile runs {destination}; {loaded.source} records it")


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

    _known_profile(file, profile)
    args = ["logs", "--no-log-prefix", "--tail", str(tail)] + (["--follow"] if follow else [])
    raise typer.Exit(connect().compose.passthrough(output, *args, profile))


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
@_handled
def cli(
    ctx: typer.Context,
    profile: Annotated[str, typer.Argument(help="Profile whose container runs the command.")],
    file: SpecFile = None,
    output: ProjectDir = Path(),
) -> None:
    """Run the openclaw CLI in a profile's container: cli rescue -- gateway status.

    It runs through the image's entrypoint (--exec), so the CLI has the gateway's token and
    secrets in its environment, as the gateway has."""

    _known_profile(file, profile)
    tty = [] if sys.stdin.isatty() and sys.stdout.isatty() else ["-T"]
    command = ["exec", *tty, profile, ENTRYPOINT, "--exec", *ctx.args]
    code = connect().compose.passthrough(output, *command)
    raise typer.Exit(code)


def _checked_version(version: str) -> str:
    from openclaw_compose.core.spec import check_version
    from openclaw_compose.errors import UsageError

    try:
        return check_version(version)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _known_profile(file: Path | None, profile: str) -> Spec:
    """The spec, which must have ``profile``."""
    from openclaw_compose.core.loading import load_spec
    from openclaw_compose.errors import UsageError

    spec = load_spec(file).spec
    if profile not in spec.profiles:
        raise UsageError(f"no profile {profile!r}; the profiles are: {', '.join(spec.profiles)}")
    return spec


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
    from openclaw_compose.runtime.importing import import_native

    plan = import_native(
        load_spec(file),
        profile,
        source,
        connect(),
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
    if plan.shares_ports:
        typer.echo(
            f"next: disable the native service, then 'openclaw-compose up --ignore-native': "
            f"{profile!r} uses the native gateway's ports, which count while "
            f"{plan.native.state_dir} is kept"
        )
    else:
        typer.echo("next: openclaw-compose up")


@app.command()
@_handled
def doctor(
    file: SpecFile = None,
    target: TargetOption = DEFAULT_TARGET,
    home: HomeOption = None,
    ignore_native: IgnoreNative = False,
) -> None:
    """Check the engine, Compose v2, every image, the target's ports and the native gateways;
    exit 1 if any fails."""
    from openclaw_compose.project import check_spec
    from openclaw_compose.runtime.doctor import diagnose

    findings = diagnose(check_spec(file, _host(home, ignore_native), target=target), connect())
    for finding in findings:
        typer.echo(f"{'ok  ' if finding.ok else 'FAIL'}  {finding.name}: {finding.detail}")
    if not all(finding.ok for finding in findings):
        raise typer.Exit(ExitCode.PROBLEMS)


@app.command()
@_handled
def dashboard(
    profile: Annotated[str, typer.Argument(help="Profile whose Control UI to open.")],
    file: SpecFile = None,
    output: ProjectDir = Path(),
    as_json: JsonFlag = False,
) -> None:
    """Print the Control UI URL of a profile, signed in with its token (#token=...).

    The URL holds the gateway's token: whoever has it has operator access."""
    from openclaw_compose.core.contract import token_ref
    from openclaw_compose.core.envfile import ENV_FILE
    from openclaw_compose.core.ports import plan_ports
    from openclaw_compose.core.secretstore import stored_values
    from openclaw_compose.errors import UsageError
    from openclaw_compose.targets.compose.runtime import base_url, dashboard_url

    spec = _known_profile(file, profile)
    ref = token_ref(spec, profile)
    token = stored_values(output).get(ref.variable)
    if not token:
        raise UsageError(
            f"no token for profile {profile!r} in {output / ENV_FILE} ({ref.variable}); run "
            "'openclaw-compose generate' (or up) there, or pass -o DIR"
        )
    fp = next(fp for fp in plan_ports(spec).footprints if fp.profile == profile)
    url = dashboard_url(base_url(spec, fp), token)
    warning = "this URL holds the gateway's token (operator access): do not share or log it"
    if as_json:
        _print_json({"profile": profile, "url": url, "credential": True, "warning": warning})
    else:
        typer.echo(f"openclaw-compose: {warning}", err=True)
        typer.echo(url)


def main() -> None:
    app(prog_name="openclaw-compose")


from openclaw_compose.cli_secrets import secret_app  # noqa: E402  (it builds on this module)

app.add_typer(secret_app)

if __name__ == "__main__":
    main()
