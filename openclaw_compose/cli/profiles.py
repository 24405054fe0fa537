"""Commands on one profile at a time: restart, stop, start, ps (``up PROFILE...`` is in
:mod:`.lifecycle`). The others' gateways are not touched."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from openclaw_compose.cli import common
from openclaw_compose.cli.common import (
    JsonFlag,
    ProjectDir,
    ReadyTimeout,
    SpecFile,
    TargetOption,
    app,
    handled,
    known_profiles,
    print_json,
    progress,
    table,
)
from openclaw_compose.targets import DEFAULT_TARGET

if TYPE_CHECKING:
    from openclaw_compose.core.loading import LoadedSpec
    from openclaw_compose.targets.base import Target

Profiles = Annotated[
    list[str],
    typer.Argument(
        help="The profiles whose gateways to act on.", metavar="PROFILE...", show_default=False
    ),
]


def _load(
    file: Path | None, profiles: list[str], target: str
) -> tuple[LoadedSpec, Target, list[str]]:
    from openclaw_compose.core.loading import load_spec
    from openclaw_compose.targets import get_target

    chosen = get_target(target)
    loaded = load_spec(file)
    return loaded, chosen, known_profiles(loaded.spec, profiles)


@app.command()
@handled
def restart(
    profiles: Profiles,
    file: SpecFile = None,
    output: ProjectDir = Path(),
    timeout: ReadyTimeout = 180,
    target: TargetOption = DEFAULT_TARGET,
) -> None:
    """Restart these profiles' gateways and wait until they answer; the others are untouched."""
    from openclaw_compose.runtime import profiles as one

    loaded, chosen, names = _load(file, profiles, target)
    one.restart(loaded, output, common.connect(), chosen, names, timeout=timeout, progress=progress)
    typer.echo(f"restarted {', '.join(names)}")


@app.command()
@handled
def stop(
    profiles: Profiles,
    file: SpecFile = None,
    output: ProjectDir = Path(),
    target: TargetOption = DEFAULT_TARGET,
) -> None:
    """Stop these profiles' gateways, keeping their containers (swarm: services, scaled to 0)."""
    from openclaw_compose.runtime import profiles as one

    loaded, chosen, names = _load(file, profiles, target)
    stopped = one.stop(loaded, output, common.connect(), chosen, names)
    for name in names:
        typer.echo(f"{name}: {'stopped' if name in stopped else 'was not running'}")


@app.command()
@handled
def start(
    profiles: Profiles,
    file: SpecFile = None,
    output: ProjectDir = Path(),
    timeout: ReadyTimeout = 180,
    target: TargetOption = DEFAULT_TARGET,
) -> None:
    """Start these profiles' gateways as last generated and wait until they answer."""
    from openclaw_compose.runtime import profiles as one

    loaded, chosen, names = _load(file, profiles, target)
    one.start(loaded, output, common.connect(), chosen, names, timeout=timeout, progress=progress)
    typer.echo(f"started {', '.join(names)}")


@app.command()
@handled
def ps(
    file: SpecFile = None,
    as_json: JsonFlag = False,
    target: TargetOption = DEFAULT_TARGET,
) -> None:
    """Per profile: its container (swarm: task), state, health and published ports."""
    from openclaw_compose.core.ports import format_range, plan_ports
    from openclaw_compose.runtime import pipeline

    loaded, chosen, _ = _load(file, [], target)
    spec, plan = loaded.spec, plan_ports(loaded.spec)
    gateways = pipeline.status(spec, plan, common.connect(), chosen)
    rows = [
        (gw, ",".join(format_range(*r) for r in fp.published()))
        for gw, fp in zip(gateways, plan.footprints, strict=True)
    ]
    if as_json:
        print_json(
            {
                "project": spec.project,
                "profiles": [
                    {
                        "profile": gw.profile,
                        "container": gw.container,
                        "node": gw.node,
                        "state": gw.state,
                        "health": gw.health,
                        "ports": ports.split(","),
                    }
                    for gw, ports in rows
                ],
            }
        )
        return
    placed = any(gw.node for gw, _ in rows)
    header = ("PROFILE", *(("NODE",) if placed else ()), "CONTAINER", "STATE", "HEALTH", "PORTS")
    lines = [
        (
            gw.profile,
            *((gw.node or "-",) if placed else ()),
            gw.container or "-",
            gw.state,
            gw.health or "-",
            ports,
        )
        for gw, ports in rows
    ]
    typer.echo(table([header, *lines]))
