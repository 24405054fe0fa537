"""The flow from a profiles file to a written project: load -> plan -> check -> render -> write.

The CLI and :mod:`openclaw_compose.testing` both go through these functions, so that every way
in checks the same things in the same order, and nothing is written when a check fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from openclaw_compose.core.checks import HostFacts, Problem, Report, run_checks
from openclaw_compose.core.contract import render_project
from openclaw_compose.core.loading import LoadedSpec, load_spec
from openclaw_compose.core.native import NativeGateway
from openclaw_compose.core.native_checks import native_problems
from openclaw_compose.core.ports import PortPlan, plan_ports
from openclaw_compose.core.spec import Target
from openclaw_compose.core.writing import WriteResult, write_project
from openclaw_compose.errors import SpecError
from openclaw_compose.targets.swarm.render import render_stack


@dataclass(frozen=True)
class CheckedSpec:
    loaded: LoadedSpec
    plan: PortPlan
    report: Report
    target: Target = "compose"
    natives: tuple[NativeGateway, ...] = ()
    """The native gateways the checks looked at (listed by ``check`` and ``ports``)."""


def check_spec(
    path: Path | None, host: HostFacts | None = None, target: Target = "compose"
) -> CheckedSpec:
    """Load, plan and check for ``target``; raises :class:`SpecError` when the file does not
    validate."""
    return check_loaded(load_spec(path), host, target)


def check_loaded(
    loaded: LoadedSpec, host: HostFacts | None = None, target: Target = "compose"
) -> CheckedSpec:
    plan = plan_ports(loaded.spec)
    host = host or HostFacts.from_system()
    report = run_checks(loaded.spec, plan, host, target)
    if target != "compose":  # a swarm stack's nodes are not this host
        return CheckedSpec(loaded, plan, report, target)
    natives = tuple(native_problems(loaded.spec, plan, host.natives))
    return CheckedSpec(loaded, plan, Report(report.problems + natives), target, host.natives)


def spec_error_report(error: SpecError) -> Report:
    """A file that does not validate, as a check report (one problem per field)."""
    return Report(
        tuple(
            Problem(
                error.code,
                "error",
                (issue.profile,) if issue.profile else (),
                f"{error.source}: {issue}",
            )
            for issue in error.issues
        )
    )


def generate(checked: CheckedSpec, out_dir: Path, *, force: bool = False) -> WriteResult:
    """Render and write the project of the checked target; refuses (writing nothing) when the
    checks found errors."""
    checked.report.fail_unless_ok()
    render = render_stack if checked.target == "swarm" else render_project
    project = render(checked.loaded, checked.plan, out_dir)
    return write_project(out_dir, project, force=force)
