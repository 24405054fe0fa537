"""openclaw-compose: run several isolated OpenClaw gateways side by side with Docker Compose.

The flow, one module each: :mod:`.spec` (the profiles file) -> :mod:`.loading` -> :mod:`.ports`
(the port plan) -> :mod:`.checks` -> :mod:`.render` -> :mod:`.writing`; :mod:`.project` chains
them and :mod:`.cli` is a thin layer on top. Names are imported lazily so that the CLI's
``--help`` does not pay for pydantic.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openclaw_compose.core.checks import HostFacts, Problem, Report, run_checks
    from openclaw_compose.core.contract import RenderedProject, render_project
    from openclaw_compose.core.loading import LoadedSpec, load_spec
    from openclaw_compose.core.ports import Footprint, PortPlan, plan_ports
    from openclaw_compose.core.project import CheckedSpec, check_spec, generate
    from openclaw_compose.core.spec import ProfileSpec, Spec
    from openclaw_compose.errors import ExitCode, OpenclawComposeError, SpecError

_EXPORTS = {
    "HostFacts": "checks",
    "Problem": "checks",
    "Report": "checks",
    "run_checks": "checks",
    "ExitCode": "errors",
    "OpenclawComposeError": "errors",
    "SpecError": "errors",
    "LoadedSpec": "loading",
    "load_spec": "loading",
    "Footprint": "ports",
    "PortPlan": "ports",
    "plan_ports": "ports",
    "CheckedSpec": "project",
    "check_spec": "project",
    "generate": "project",
    "RenderedProject": "render",
    "render_project": "render",
    "ProfileSpec": "spec",
    "Spec": "spec",
}
__all__ = [
    "CheckedSpec",
    "ExitCode",
    "Footprint",
    "HostFacts",
    "LoadedSpec",
    "OpenclawComposeError",
    "PortPlan",
    "Problem",
    "ProfileSpec",
    "RenderedProject",
    "Report",
    "Spec",
    "SpecError",
    "check_spec",
    "generate",
    "load_spec",
    "plan_ports",
    "render_project",
    "run_checks",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
