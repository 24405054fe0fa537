"""Reaching a gateway from another machine without the front: ``tunnel``."""

from __future__ import annotations

from typing import Annotated

import typer

from openclaw_compose.cli.common import JsonFlag, SpecFile, app, handled, known_profile, print_json

HOST_PLACEHOLDER = "USER@SERVER"


@app.command()
@handled
def tunnel(
    profile: Annotated[str, typer.Argument(help="Profile whose gateway to reach.")],
    host: Annotated[
        str,
        typer.Option(
            "--host", help="The SSH destination of this machine, as seen from yours (USER@HOST)."
        ),
    ] = HOST_PLACEHOLDER,
    local_port: Annotated[
        int | None,
        typer.Option("--local-port", help="Port on your machine [default: the base port]."),
    ] = None,
    file: SpecFile = None,
    as_json: JsonFlag = False,
) -> None:
    """Print the ssh -L command that brings a profile's gateway port (only that port) to your
    machine, and the address to open there.

    Run it on your machine; then 'openclaw-compose dashboard PROFILE' here gives the token to
    sign in with (its #token=... part)."""
    from openclaw_compose.core.front import tunnel_command
    from openclaw_compose.core.ports import plan_ports

    spec = known_profile(file, profile)
    fp = next(fp for fp in plan_ports(spec).footprints if fp.profile == profile)
    command = tunnel_command(spec, fp, host, local_port)
    local = f"http://127.0.0.1:{local_port or fp.base}/"
    if as_json:
        print_json({"profile": profile, "command": command, "url": local})
        return
    typer.echo(command)
    typer.echo(f"openclaw-compose: then open {local} on your machine", err=True)
