"""Commands that move a gateway's state: backup, restore, upgrade, import."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from openclaw_compose.cli import common
from openclaw_compose.cli.common import (
    HomeOption,
    IgnoreNative,
    ProjectDir,
    SpecFile,
    TargetOption,
    app,
    checked_version,
    handled,
    host_facts,
    known_profile,
    progress,
    regular_file,
    seconds,
)
from openclaw_compose.targets import DEFAULT_TARGET


@app.command()
@handled
def backup(
    profiles: Annotated[
        list[str] | None, typer.Argument(help="Profiles to back up.", show_default=False)
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Back up every profile.")] = False,
    file: SpecFile = None,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Directory for the archives.")
    ] = Path(),
    target: TargetOption = DEFAULT_TARGET,
) -> None:
    """One archive per profile of its state, config and workspace (openclaw backup create
    --verify, while the gateway runs), with its OpenClaw version and a checksum."""
    from openclaw_compose.core.loading import load_spec
    from openclaw_compose.errors import UsageError
    from openclaw_compose.runtime.backup import backup_profile, check_output_dir
    from openclaw_compose.targets import get_target

    runs_on = get_target(target)
    spec = load_spec(file).spec
    names = list(spec.profiles) if every else list(profiles or [])
    if not names or (every and profiles):
        raise UsageError("name the profiles to back up, or use --all (not both)")
    for name in names:
        known_profile(file, name)
    check_output_dir(output)
    runtime = runs_on.runtime(common.connect())
    for name in names:
        made = backup_profile(spec, name, runtime, output)
        how = "live, next to its running gateway" if made.live else "from its stopped trees"
        typer.echo(
            f"{name}: {made.path} (OpenClaw {made.manifest.openclaw_version}, "
            f"{made.manifest.size / 1024:.0f} KiB, {made.seconds:.1f} s, {how})"
        )


@app.command()
@handled
def restore(
    profile: Annotated[str, typer.Argument(help="Profile to restore into.")],
    archive: Annotated[
        Path, typer.Argument(help="An archive written by 'backup'.", callback=regular_file)
    ],
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
    from openclaw_compose.core.loading import load_spec
    from openclaw_compose.runtime.backup import restore as restore_archive
    from openclaw_compose.targets import get_target

    runs_on = get_target(target)
    loaded = load_spec(file)
    known_profile(file, profile)
    where = (common.connect(), runs_on, output)
    restore_archive(loaded, profile, archive, where, force=force, say=typer.echo)


@app.command()
@handled
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
        float,
        typer.Option(
            help="Seconds each profile may take to answer on the new version.", callback=seconds
        ),
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
    from openclaw_compose.runtime.backup import check_output_dir
    from openclaw_compose.runtime.upgrade import Destination
    from openclaw_compose.runtime.upgrade import upgrade as run_upgrade
    from openclaw_compose.targets import get_target

    runs_on = get_target(target)
    if (to is None) == (image is None):
        raise UsageError("give either --to VERSION or --image REF")
    destination = Destination(version=checked_version(to) if to else None, image=image)
    loaded = load_spec(file)
    backups = backups or output / "backups"
    check_output_dir(backups)  # before an image is built or a gateway touched
    done = run_upgrade(
        loaded,
        output,
        common.connect(),
        destination,
        target=runs_on,
        timeout=timeout,
        backups=backups,
        progress=progress,
        live=common.live,
    )
    for step in done:
        typer.echo(f"{step.profile}: {step.old_image} -> {step.new_image} in {step.seconds:.1f} s")
    typer.echo(f"every profile runs {destination}; {loaded.source} records it")


@app.command("import")
@handled
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
    from openclaw_compose.host.system import default_home
    from openclaw_compose.runtime.importing import import_native
    from openclaw_compose.targets import get_target

    plan = import_native(
        load_spec(file),
        profile,
        source,
        common.connect(),
        target=get_target(DEFAULT_TARGET),
        host=host_facts(home, ignore_native),
        home=home or default_home(),
        force=force,
        progress=progress,
    )
    typer.echo(f"imported the {plan.native.describe()} into profile {profile!r}")
    for line in plan.copied:
        typer.echo(f"copied   {line}")
    for line in plan.skipped:
        typer.echo(f"skipped  {line}")
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
