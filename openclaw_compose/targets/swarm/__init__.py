"""The swarm target: the same profiles as a Docker Swarm stack over one or more nodes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from openclaw_compose.targets.base import Target
from openclaw_compose.targets.swarm.checks import swarm_problems
from openclaw_compose.targets.swarm.render import STACK_FILE, expected, render_stack

if TYPE_CHECKING:
    from openclaw_compose.engine import Engine
    from openclaw_compose.targets.base import Runtime


def _runtime(engine: Engine) -> Runtime:
    from openclaw_compose.targets.swarm.runtime import SwarmRuntime  # noqa: PLC0415

    return SwarmRuntime(engine)


TARGET = Target(
    name="swarm",
    document=STACK_FILE,
    summary="one or more nodes: stack.yaml for docker stack deploy",
    render=render_stack,
    checks=swarm_problems,
    runtime=_runtime,
    here="on this node",
    expected=expected,
)
