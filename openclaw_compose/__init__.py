"""openclaw-compose: run several isolated OpenClaw gateways side by side with Docker Compose.

The folders are the architecture: ``core/`` (target-neutral: spec -> loading -> ports ->
checks -> contract -> writing), ``targets/`` (one folder per target behind one registry: render,
checks, runtime hooks), :mod:`.project` (load -> plan -> check -> render -> write for a target),
``runtime/`` (the one pipeline: preflight -> generate -> start -> wait -> status), ``engine/``
(all Docker access, split by what it touches), and :mod:`.cli`, a thin layer on top. Names are
imported lazily so that the CLI's ``--help`` does not pay for pydantic.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openclaw_compose.core.checks import HostFacts, Problem, Report, run_checks
    from openclaw_compose.core.contract import RenderedProject
    from openclaw_compose.core.loading import LoadedSpec, load_spec
    from openclaw_compose.core.native import NativeGateway, discover
    from openclaw_compose.core.ports import Footprint, PortPlan, plan_ports
    from openclaw_compose.core.spec import ProfileSpec, Spec
    from openclaw_compose.errors import ExitCode, OpenclawComposeError, SpecError
    from openclaw_compose.project import CheckedSpec, check_spec, generate

_EXPORTS = {
    "HostFacts": "core.checks",
    "Problem": "core.checks",
    "Report": "core.checks",
    "run_checks": "core.checks",
    "ExitCode": "errors",
    "OpenclawComposeError": "errors",
    "SpecError": "errors",
    "LoadedSpec": "core.loading",
    "load_spec": "core.loading",
    "NativeGateway": "core.native",
    "discover": "core.native",
    "Footprint": "core.ports",
    "PortPlan": "core.ports",
    "plan_ports": "core.ports",
    "CheckedSpec": "project",
    "check_spec": "project",
    "generate": "project",
    "RenderedProject": "core.contract",
    "ProfileSpec": "core.spec",
    "Spec": "core.spec",
}
__all__ = [
    "CheckedSpec",
    "ExitCode",
    "Footprint",
    "HostFacts",
    "LoadedSpec",
    "NativeGateway",
    "OpenclawComposeError",
    "PortPlan",
    "Problem",
    "ProfileSpec",
    "RenderedProject",
    "Report",
    "Spec",
    "SpecError",
    "check_spec",
    "discover",
    "generate",
    "load_spec",
    "plan_ports",
    "run_checks",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
