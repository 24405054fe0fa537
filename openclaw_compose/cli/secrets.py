"""``openclaw-compose secret set|list|rm``: the values of the profiles' secrets in the project's
private store (``.env``, see :mod:`openclaw_compose.core.secretstore`). Values are read from
standard input (without echo on a terminal) and never printed."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Annotated

import typer

from openclaw_compose.cli.common import (
    JsonFlag,
    ProjectDir,
    SpecFile,
    handled,
    known_profile,
    print_json,
    table,
)

secret_app = typer.Typer(
    name="secret",
    help="Set, list and remove the values of the profiles' secrets (kept in .env, mode 0600).",
    no_args_is_help=True,
)
Profile = Annotated[str, typer.Argument(help="The profile the secret belongs to.")]
Name = Annotated[str, typer.Argument(help="The secret's name, as listed in the profile's secrets.")]


@secret_app.command("set")
@handled
def set_(profile: Profile, name: Name, file: SpecFile = None, output: ProjectDir = Path()) -> None:
    """Store a secret's value, read from standard input (no echo on a terminal; a trailing
    newline is dropped). Running gateways get it at the next 'up' or 'deploy'."""
    from openclaw_compose.core.envfile import ENV_FILE
    from openclaw_compose.core.loading import load_spec
    from openclaw_compose.core.secretstore import VALUE_LIMIT, clean_value, set_secret
    from openclaw_compose.core.writing import update_env

    spec = load_spec(file).spec
    raw: str | bytes
    if sys.stdin.isatty():
        raw = getpass.getpass(f"value of {name} for profile {profile!r} (not shown): ")
    else:
        raw = sys.stdin.buffer.read(VALUE_LIMIT + len("\r\n") + 1)  # over: refused, unread
    value = clean_value(raw)
    update_env(output, lambda text: set_secret(spec, text, profile, name, value))
    typer.echo(f"stored {name} of profile {profile!r} in {output / ENV_FILE}")


@secret_app.command("list")
@handled
def list_(
    profile: Annotated[str | None, typer.Argument(help="Only this profile.")] = None,
    file: SpecFile = None,
    output: ProjectDir = Path(),
    as_json: JsonFlag = False,
) -> None:
    """Every declared secret and whether it has a value (never the value)."""
    from openclaw_compose.core.loading import load_spec
    from openclaw_compose.core.secretstore import secret_states

    spec = load_spec(file).spec if profile is None else known_profile(file, profile)
    states = secret_states(spec, output, profile)
    if as_json:
        print_json({"secrets": [state.to_json() for state in states]})
        return
    rows = [("PROFILE", "SECRET", "VALUE", "STORED AS")]
    rows += [(s.profile, s.name, "set" if s.set else "unset", s.variable) for s in states]
    typer.echo(table(rows) if states else "no profile declares secrets")


@secret_app.command("rm")
@handled
def rm(profile: Profile, name: Name, file: SpecFile = None, output: ProjectDir = Path()) -> None:
    """Remove a secret's value from the store."""
    from openclaw_compose.core.envfile import ENV_FILE
    from openclaw_compose.core.loading import load_spec
    from openclaw_compose.core.secretstore import remove_secret
    from openclaw_compose.core.writing import update_env

    spec = load_spec(file).spec
    update_env(output, lambda text: remove_secret(spec, text, profile, name))
    typer.echo(f"removed {name} of profile {profile!r} from {output / ENV_FILE}")
