"""The ``openclaw-compose`` command line: parse, call one core function, print.

The commands are grouped by what they touch: :mod:`.project` (the profiles file and the
generated files), :mod:`.lifecycle` (running gateways), :mod:`.profiles` (one profile at a
time), :mod:`.converge` (``plan``), :mod:`.state` (a gateway's state: backup, restore,
upgrade, import), :mod:`.remote` (``tunnel``), :mod:`.secrets` (``secret set|list|rm``);
:mod:`.common` holds the app, the options and :func:`~.common.handled`, the one place that
turns errors into a message on stderr and an exit code (see
:class:`openclaw_compose.errors.ExitCode`). Heavy modules (pydantic, ruamel, docker) are
imported inside the commands, so that ``--help`` stays fast.
"""

from __future__ import annotations

from openclaw_compose.cli import converge, lifecycle, profiles, project, remote, state
from openclaw_compose.cli.common import app
from openclaw_compose.cli.secrets import secret_app

app.add_typer(secret_app)

__all__ = ["app", "converge", "lifecycle", "main", "profiles", "project", "remote", "state"]


def main() -> None:
    app(prog_name="openclaw-compose")
