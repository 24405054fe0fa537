"""The compose target: every profile on this host, as one Compose v2 project."""

from __future__ import annotations

from typing import TYPE_CHECKING

from openclaw_compose.targets.base import Target
from openclaw_compose.targets.compose.checks import compose_problems
from openclaw_compose.targets.compose.render import COMPOSE_FILE, expected, render_project

if TYPE_CHECKING:
    from openclaw_compose.engine import Engine
    from openclaw_compose.targets.base import Runtime


def _runtime(engine: Engine) -> Runtime:
    from openclaw_compose.targets.compose.runtime import ComposeRuntime  # noqa: PLC0415

    return ComposeRuntime(engine)


TARGET = Target(
    name="compose",
    document=COMPOSE_FILE,
    summary="one host: compose.yaml for docker compose",
    render=render_project,
    checks=compose_problems,
    runtime=_runtime,
    here="in this project",
    expected=expected,
    local=True,
)
