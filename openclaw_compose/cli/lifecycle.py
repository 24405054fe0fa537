"""Commands that run the gateways: up/deploy, push, down/undeploy, status, logs, cli, doctor,
dashboard."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from openclaw_compose.cli import common
from openclaw_compose.cli.common import (
    ForceFlag,
    HomeOption,
    IgnoreNative,
    JsonFlag,
    ProjectDir,
    ReadyTimeout,
    SpecFile,
    SpecFileLong,
    TargetOption,
    TargetOptionLong,
    YesFlag,
    app,
    handled,
    host_facts,
    known_profiles,
    print_json,
    print_warnings,
    progress,
    table,
)
from openclaw_compose.errors import ExitCode
from openclaw_compose.targets import DEFAULT_TARGET

if TYPE_CHECKING:
    from openclaw_compose.core.checks import HostFacts
    from openclaw_compose.core.loading import LoadedSpec
    from openclaw_compose.core.spec import Spec
    from openclaw_compose.targets.base import GatewayStatus


def _start(
    file: Path | None,
    output: Path,
    timeout: float,
    force: bool,
    target: str,
    *,
    host: HostFacts | None = None,
    profiles: list[str] | None = None,
    adopt: bool = False,
) -> None:
    from openclaw_compose.project import check_spec
    from openclaw_compose.runtime import pipeline

    checked = check_spec(file, host, target=target)
    chosen = known_profiles(checked.loaded.spec, profiles or [])
    print_warnings(checked.report)
    gateways = pipeline.up(
        checked,
        output,
        common.connect(),
        timeout=timeout,
        progress=progress,
        force=force,
        live=common.live,
        profiles=chosen,
        adopt=adopt,
    )
    typer.echo(_status_table(gateways, checked.loaded.spec))


ProfilesToStart = Annotated[
    list[str] | None,
    typer.Argument(
        help="Only these profiles' gateways [default: every one].",
        metavar="[PROFILE...]",
        show_default=False,
    ),
]
AdoptFlag = Annotated[
    bool,
    typer.Option(
        "--adopt",
        help="Take over a project that another profiles file owns (that file was moved here).",
    ),
]


@app.command()
@handled
def up(
    profiles: ProfilesToStart = None,
    *,
    file: SpecFile = None,
    output: ProjectDir = Path(),
    timeout: ReadyTimeout = 180,
    force: ForceFlag = False,
    target: TargetOption = DEFAULT_TARGET,
    home: HomeOption = None,
    ignore_native: IgnoreNative = False,
    adopt: AdoptFlag = False,
) -> None:
    """Check, preflight, generate, start every gateway (or the PROFILES named: the others are
    not touched) and wait until ready."""
    host = host_facts(home, ignore_native)
    _start(file, output, timeout, force, target, host=host, profiles=profiles, adopt=adopt)


@app.command()
@handled
def deploy(
    file: SpecFile = None,
    output: ProjectDir = Path(),
    timeout: ReadyTimeout = 180,
    force: ForceFlag = False,
    adopt: AdoptFlag = False,
) -> None:
    """Swarm: 'up --target swarm': check, place on the swarm's nodes, preflight, generate
    stack.yaml, create the token secrets, docker stack deploy, and wait until ready."""
    _start(file, output, timeout, force, "swarm", adopt=adopt)


@app.command()
@handled
def push(file: SpecFile = None) -> None:
    """Swarm: tag and push every image the stack uses to the profiles file's 'registry:', and
    print the digest reference each node pulls (deploy does this itself)."""
    from openclaw_compose.core.loading import load_spec
    from openclaw_compose.errors import UsageError
    from openclaw_compose.host.images import require_images
    from openclaw_compose.targets.swarm.images import push_images

    loaded = load_spec(file)
    if loaded.spec.registry is None:
        raise UsageError(
            f"{loaded.source}: no 'registry:' to push to; add 'registry: HOST:PORT' (a Docker "
            "registry every swarm node reaches)"
        )
    engine = common.connect()
    require_images(loaded.spec, engine)
    for image, reference in push_images(loaded.spec, engine, progress).items():
        typer.echo(f"{image} -> {reference}")


def _stop(file: Path | None, output: Path, volumes: bool, yes: bool, target: str) -> None:
    from openclaw_compose.core.loading import load_spec
    from openclaw_compose.runtime import pipeline
    from openclaw_compose.targets import get_target

    chosen = get_target(target)
    loaded = load_spec(file)
    spec = loaded.spec
    if volumes and not yes:
        typer.confirm(
            f"Delete every volume of project {spec.project!r} (state, config, workspace; "
            f"target {chosen.name})?",
            abort=True,
        )
    typer.echo(
        pipeline.down(loaded, output, common.connect(), chosen, volumes=volumes, progress=progress)
    )


VolumesFlag = Annotated[
    bool,
    typer.Option("--volumes", help="Also delete state, config and workspace volumes (this node)."),
]


@app.command()
@handled
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
@handled
def undeploy(
    file: SpecFile = None,
    output: ProjectDir = Path(),
    volumes: VolumesFlag = False,
    yes: YesFlag = False,
) -> None:
    """Swarm: 'down --target swarm': remove the stack (services, networks, seeds, token
    secrets); volumes are kept unless --volumes."""
    _stop(file, output, volumes, yes, "swarm")


def _status_table(gateways: list[GatewayStatus], spec: Spec) -> str:
    """The gateways, one row each; then, with a front, where it serves each of them."""
    from openclaw_compose.core.front import front_urls

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
    served = "".join(f"\nfront: {url} -> {profile}" for profile, url in front_urls(spec).items())
    return table(rows) + served


@app.command()
@handled
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
    gateways = pipeline.status(spec, plan_ports(spec), common.connect(), chosen)
    from openclaw_compose.core.front import front_urls

    if as_json:
        profiles = [gw.to_json() for gw in gateways]
        print_json({"project": spec.project, "profiles": profiles, "front": front_urls(spec)})
    else:
        typer.echo(_status_table(gateways, spec))
    _fail_unless_healthy(gateways)


def _fail_unless_healthy(gateways: list[GatewayStatus]) -> None:
    from openclaw_compose.errors import NotRunning
    from openclaw_compose.runtime.profiles import healthy

    unwell = [f"{gw.profile} ({gw.state})" for gw in gateways if not healthy(gw)]
    if unwell:
        raise NotRunning(f"not running and healthy: {', '.join(unwell)}")


ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
"""Terminal escape sequences (Compose starts every log line with ESC[2K, even into a pipe)."""


@app.command()
@handled
def logs(
    profiles: Annotated[
        list[str] | None,
        typer.Argument(
            help="Profiles whose logs to show [default: every one].", show_default=False
        ),
    ] = None,
    *,
    file: SpecFileLong = None,
    output: ProjectDir = Path(),
    follow: Annotated[
        bool, typer.Option("--follow", "-f", "-F", help="Keep following new lines.")
    ] = False,
    tail: Annotated[str, typer.Option(help="Lines from the end of each log, or 'all'.")] = "200",
    since: Annotated[
        str | None,
        typer.Option(
            help="Only lines since a time (2026-12-04T17:00:00) or a duration ago (10m).",
            show_default=False,
        ),
    ] = None,
    timestamps: Annotated[
        bool, typer.Option("--timestamps", "-t", help="Show each line's timestamp.")
    ] = False,
    target: TargetOptionLong = DEFAULT_TARGET,
) -> None:
    """Show the gateways' logs, each line after its profile's name (as docker compose logs)."""
    from openclaw_compose.core.loading import load_spec
    from openclaw_compose.errors import UsageError
    from openclaw_compose.targets import get_target
    from openclaw_compose.targets.base import LogOptions

    runs_on = get_target(target)
    spec = load_spec(file).spec
    for profile in profiles or []:
        known_profiles(spec, [profile])
    if not (tail.isdigit() or tail == "all"):
        raise UsageError(f"--tail {tail}: give a number of lines or 'all'")
    options = LogOptions(tail=tail, follow=follow, since=since, timestamps=timestamps)
    keep_escapes = common.output.terminal(err=False)

    def line(text: str) -> None:
        typer.echo(text if keep_escapes else ESCAPES.sub("", text))

    runtime = runs_on.runtime(common.connect())
    raise typer.Exit(runtime.logs(spec, output, profiles or [], options, line))


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
@handled
def cli(
    ctx: typer.Context,
    profile: Annotated[str, typer.Argument(help="Profile whose container runs the command.")],
    file: SpecFile = None,
    output: ProjectDir = Path(),
    target: TargetOption = DEFAULT_TARGET,
) -> None:
    """Run the openclaw CLI in a profile's container: cli rescue -- gateway status.

    It runs through the image's entrypoint (--exec), so the CLI has the gateway's token and
    secrets in its environment, as the gateway has."""
    from openclaw_compose.runtime.profiles import run_cli
    from openclaw_compose.targets import get_target

    runs_on = get_target(target)
    loaded = _with_profile(file, profile)
    tty = sys.stdin.isatty() and sys.stdout.isatty()
    code = run_cli(loaded, output, common.connect(), runs_on, profile, args=ctx.args, tty=tty)
    raise typer.Exit(code)


def _with_profile(file: Path | None, profile: str) -> LoadedSpec:
    """The loaded profiles file, which must have ``profile``."""
    from openclaw_compose.core.loading import load_spec

    loaded = load_spec(file)
    known_profiles(loaded.spec, [profile])
    return loaded


@app.command()
@handled
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

    findings = diagnose(
        check_spec(file, host_facts(home, ignore_native), target=target), common.connect()
    )
    for finding in findings:
        typer.echo(f"{'ok  ' if finding.ok else 'FAIL'}  {finding.name}: {finding.detail}")
    if not all(finding.ok for finding in findings):
        raise typer.Exit(ExitCode.PROBLEMS)


@app.command()
@handled
def dashboard(
    profile: Annotated[str, typer.Argument(help="Profile whose Control UI to open.")],
    file: SpecFile = None,
    output: ProjectDir = Path(),
    as_json: JsonFlag = False,
    target: TargetOption = DEFAULT_TARGET,
) -> None:
    """Print the Control UI URL of a profile, signed in with its token (#token=...).

    With an HTTPS front that serves the profile, the front's URL (https://HOSTNAME[:PORT]).
    The URL holds the gateway's token: whoever has it has operator access."""
    from openclaw_compose.runtime.profiles import dashboard as dashboard_url
    from openclaw_compose.targets import get_target

    runs_on = get_target(target)
    loaded = _with_profile(file, profile)
    url = dashboard_url(loaded, output, common.connect(), runs_on, profile)
    warning = "this URL holds the gateway's token (operator access): do not share or log it"
    if as_json:
        print_json({"profile": profile, "url": url, "credential": True, "warning": warning})
    else:
        typer.echo(f"openclaw-compose: {warning}", err=True)
        typer.echo(url)
