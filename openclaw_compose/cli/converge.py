"""``plan``: what ``up``/``deploy`` would do, per profile, changing nothing."""

from __future__ import annotations

from pathlib import Path

import typer

from openclaw_compose.cli import common
from openclaw_compose.cli.common import (
    HomeOption,
    IgnoreNative,
    JsonFlag,
    ProjectDir,
    SpecFile,
    TargetOption,
    app,
    handled,
    host_facts,
    print_json,
    print_warnings,
)
from openclaw_compose.errors import ExitCode
from openclaw_compose.targets import DEFAULT_TARGET


@app.command()
@handled
def plan(
    *,
    file: SpecFile = None,
    output: ProjectDir = Path(),
    as_json: JsonFlag = False,
    target: TargetOption = DEFAULT_TARGET,
    home: HomeOption = None,
    ignore_native: IgnoreNative = False,
) -> None:
    """Per profile, what up/deploy would do: containers created, recreated or removed, config
    keys set or unset (never values), volumes created. Exit 0: nothing to do; 10: changes."""
    from openclaw_compose.project import check_spec
    from openclaw_compose.runtime.plan import plan as make_plan

    checked = check_spec(file, host_facts(home, ignore_native), target=target)
    print_warnings(checked.report)
    plans = make_plan(checked, output, common.connect())
    if as_json:
        print_json(
            {"project": checked.loaded.spec.project, "profiles": [p.to_json() for p in plans]}
        )
    else:
        for profile in plans:
            typer.echo(profile.describe())
    if any(profile.changes for profile in plans):
        raise typer.Exit(ExitCode.CHANGES)
