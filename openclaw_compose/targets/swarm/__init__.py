"""The swarm target: the same profiles as a Docker Swarm stack over one or more nodes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from openclaw_compose.core.checks import Problem
from openclaw_compose.core.contract import RenderedProject
from openclaw_compose.core.loading import LoadedSpec
from openclaw_compose.core.ports import PortPlan
from openclaw_compose.core.spec import Spec
from openclaw_compose.targets.swarm.checks import swarm_problems
from openclaw_compose.targets.swarm.render import STACK_FILE, render_stack

if TYPE_CHECKING:
    from openclaw_compose.engine import Engine
    from openclaw_compose.targets.base import Runtime


class SwarmTarget:
    name = "swarm"
    document = STACK_FILE
    summary = "one or more nodes: stack.yaml for docker stack deploy"

    def render(self, loaded: LoadedSpec, plan: PortPlan, out_dir: Path) -> RenderedProject:
        return render_stack(loaded, plan, out_dir)

    def checks(self, spec: Spec, plan: PortPlan) -> Iterator[Problem]:
        return swarm_problems(spec, plan)

    def runtime(self, engine: Engine) -> Runtime:
        from openclaw_compose.targets.swarm.runtime import SwarmRuntime  # noqa: PLC0415

        return SwarmRuntime(engine)


TARGET = SwarmTarget()
