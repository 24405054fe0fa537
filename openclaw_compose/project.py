"""From a profiles file to a written project, for one target: load -> plan -> check -> render
-> write.

The CLI, the runtime pipeline and :mod:`openclaw_compose.testing` all go through these
functions, so that every way in checks the same things in the same order, and nothing is
written when a check fails.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from openclaw_compose.core.checks import (
    CheckCode,
    HostFacts,
    Problem,
    Report,
    output_problems,
    run_checks,
)
from openclaw_compose.core.credentials import literal_credentials
from openclaw_compose.core.loading import LoadedSpec, load_spec
from openclaw_compose.core.native import NativeGateway
from openclaw_compose.core.native_checks import native_problems
from openclaw_compose.core.ports import PortPlan, plan_ports
from openclaw_compose.core.writing import WriteResult, write_project
from openclaw_compose.errors import SpecError
from openclaw_compose.host.system import host_facts
from openclaw_compose.targets import DEFAULT_TARGET, all_targets, get_target

if TYPE_CHECKING:
    from openclaw_compose.targets.base import Target


@dataclass(frozen=True)
class CheckedSpec:
    loaded: LoadedSpec
    plan: PortPlan
    report: Report
    target: Target
    natives: tuple[NativeGateway, ...] = ()
    """The native gateways the checks counted (the target's gateways run next to them)."""


def check_spec(
    path: Path | None, host: HostFacts | None = None, target: str = DEFAULT_TARGET
) -> CheckedSpec:
    """Load, plan and check for ``target``; raises :class:`SpecError` when the file does not
    validate."""
    return check_loaded(load_spec(path), host, target)


def check_loaded(
    loaded: LoadedSpec, host: HostFacts | None = None, target: str = DEFAULT_TARGET
) -> CheckedSpec:
    chosen = get_target(target)
    plan = plan_ports(loaded.spec)
    host = host or host_facts()
    core = run_checks(loaded.spec, plan, host)
    natives = host.natives if chosen.local else ()
    report = Report(
        core.problems
        + tuple(literal_credentials(loaded.spec))
        + tuple(chosen.checks(loaded.spec, plan))
        + tuple(native_problems(loaded.spec, plan, natives))
    )
    return CheckedSpec(loaded, plan, report, chosen, natives)


def spec_error_report(error: SpecError) -> Report:
    """A file that does not validate, as a check report (one problem per field)."""
    return Report(
        tuple(
            Problem(
                CheckCode(error.code),
                "error",
                (issue.profile,) if issue.profile else (),
                f"{error.source}: {issue}",
            )
            for issue in error.issues
        )
    )


def generate(checked: CheckedSpec, out_dir: Path, *, force: bool = False) -> WriteResult:
    """Render and write the project of the checked target; refuses (writing nothing) when the
    checks found errors. The other targets' documents in the same directory are left alone."""
    output = tuple(output_problems(checked.loaded.spec, out_dir))
    Report(checked.report.problems + output).fail_unless_ok()
    project = checked.target.render(checked.loaded, checked.plan, out_dir)
    others = tuple(t.document for t in all_targets() if t is not checked.target)
    return write_project(out_dir, dataclasses.replace(project, others=others), force=force)
