"""The compose target: every profile on this host, as one Compose v2 project."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from openclaw_compose.core.checks import Problem
from openclaw_compose.core.contract import RenderedProject
from openclaw_compose.core.loading import LoadedSpec
from openclaw_compose.core.ports import PortPlan
from openclaw_compose.core.spec import Spec
from openclaw_compose.targets.compose.checks import compose_problems
from openclaw_compose.targets.compose.render import COMPOSE_FILE, render_project

if TYPE_CHECKING:
    from openclaw_compose.engine import Engine
    from openclaw_compose.targets.base import Runtime


class ComposeTarget:
    name = "compose"
    document = COMPOSE_FILE
    summary = "one host: compose.yaml for docker compose"

    def render(self, loaded: LoadedSpec, plan: PortPlan, out_dir: Path) -> RenderedProject:
        return render_project(loaded, plan, out_dir)

    def checks(self, spec: Spec, plan: PortPlan) -> Iterator[Problem]:
        return compose_problems(spec, plan)

    def runtime(self, engine: Engine) -> Runtime:
        from openclaw_compose.targets.compose.runtime import ComposeRuntime  # noqa: PLC0415

        return ComposeRuntime(engine)


TARGET = ComposeTarget()
