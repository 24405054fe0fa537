"""Commands on the profiles file and the generated files: ports, check, generate, init, schema,
build (the images it needs)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from openclaw_compose.cli.common import (
    ForceFlag,
    HomeOption,
    IgnoreNative,
    JsonFlag,
    ProjectDir,
    SpecFile,
    TargetOption,
    app,
    checked_version,
    file_option,
    fragments_checked,
    handled,
    host_facts,
    print_json,
    print_report,
    print_warnings,
    progress,
    table,
    with_secret_warnings,
)
from openclaw_compose.errors import ExitCode
from openclaw_compose.targets import DEFAULT_TARGET

if TYPE_CHECKING:
    from openclaw_compose.core.native import NativeGateway
    from openclaw_compose.core.ports import PortPlan


@app.command()
@handled
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
    natives = host_facts(home, ignore_native).natives
    if as_json:
        print_json(plan.to_json() | {"native": [native.to_json() for native in natives]})
    else:
        typer.echo(_plan_table(plan, natives))


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
    return table(rows)


def _native_text(native: NativeGateway) -> str:
    return f"{native.config_path} ({native.state_text()})"


@app.command()
@handled
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
    from openclaw_compose.core.checks import Report
    from openclaw_compose.core.ports import format_range
    from openclaw_compose.errors import SpecError
    from openclaw_compose.project import check_spec, spec_error_report

    natives: tuple[NativeGateway, ...] = ()
    try:
        checked = check_spec(file, host_facts(home, ignore_native), target=target)
        report, natives = with_secret_warnings(checked, output), checked.natives
        report = Report(report.problems + fragments_checked(checked.loaded))
    except SpecError as exc:
        report = spec_error_report(exc)
    if as_json:
        print_json(report.to_json() | {"native": [native.to_json() for native in natives]})
    else:
        for native in natives:
            fp = native.footprint()
            ports = format_range(*fp.span) if fp else "ports unknown"
            typer.echo(f"{native.label}: {ports}, {_native_text(native)}")
        print_report(report)
    if not report.ok:
        raise typer.Exit(ExitCode.PROBLEMS)


@app.command()
@handled
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

    checked = check_spec(file, host_facts(home, ignore_native), target=target)
    result = generate(checked, output, force=force)
    print_warnings(with_secret_warnings(checked, output))
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
@handled
def init(
    file: Annotated[
        Path,
        typer.Option(
            "--file",
            "-f",
            help="Where to write the starter profiles file (or -f before the command).",
            callback=file_option,
        ),
    ] = Path("openclaw-compose.yaml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented starter profiles file (main + rescue)."""
    from importlib.resources import files

    from openclaw_compose.core.spec import DEFAULT_PROJECT, project_for
    from openclaw_compose.errors import OutputError

    if file.exists() and not force:
        raise OutputError(f"{file}: already exists; edit it, or use --force to replace it")
    starter = files("openclaw_compose").joinpath("starter.yaml").read_text(encoding="utf-8")
    named = f"\nproject: {project_for(file.absolute().parent)}\n"
    try:
        file.write_text(starter.replace(f"\nproject: {DEFAULT_PROJECT}\n", named), encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"{file}: cannot be written: {exc.strerror}") from None
    typer.echo(f"wrote {file}; next: openclaw-compose check && openclaw-compose generate")


@app.command()
@handled
def config(file: SpecFile = None, as_json: JsonFlag = False) -> None:
    """Print the profiles file as it is read: validated, every default filled in (as docker
    compose config does); YAML, or JSON with --json."""
    from openclaw_compose.core.loading import load_spec
    from openclaw_compose.core.resources import limits
    from openclaw_compose.core.yamlout import emit

    spec = load_spec(file).spec
    document = spec.model_dump(mode="json", exclude_none=True)
    for name, profile in spec.profiles.items():
        entry = document["profiles"][name]
        entry["openclaw"] = profile.openclaw.as_config()
        effective = limits(profile.resources, browser=profile.browser)
        entry["resources"] = {
            "memory": effective.memory_text(),
            "cpus": effective.cpus,
            "pids": effective.pids,
        }
    if as_json:
        print_json(document)
    else:
        typer.echo(emit(document), nl=False)


@app.command()
@handled
def schema() -> None:
    """Print the JSON schema of the profiles file (for editors and CI)."""
    from openclaw_compose.core.spec import Spec

    print_json(Spec.model_json_schema())


@app.command()
@handled
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
    from openclaw_compose.host.images import build as build_images
    from openclaw_compose.host.images import buildable

    spec = load_spec(file).spec
    if version is not None:
        spec = spec.at_version(checked_version(version))
    recipes = buildable(spec)
    if browser:
        recipes |= {gateway_image(v, browser=True): (v, True) for v, _ in recipes.values()}
    if not recipes:
        typer.echo("nothing to build: every profile runs an image of your own ('image:')")
        return
    build_images(recipes, progress, rebuild=rebuild)
    typer.echo(f"ready: {', '.join(sorted(recipes))}")
