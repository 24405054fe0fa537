"""``openclaw-compose doctor``: is this host ready to run the project?"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .engine import Engine, userland_proxy
from .errors import OpenclawComposeError
from .lifecycle import host_report, require_image
from .project import CheckedSpec, check_spec


@dataclass(frozen=True)
class Finding:
    name: str
    ok: bool
    detail: str


def _finding(name: str, probe: Callable[[], str]) -> Finding:
    try:
        return Finding(name, True, probe())
    except OpenclawComposeError as exc:
        return Finding(name, False, exc.message)


def diagnose(file: Path | None) -> list[Finding]:
    engine = Engine()
    checked = check_spec(file)
    findings = [
        _finding("engine", lambda: f"Docker {engine.version()}"),
        _finding("compose", lambda: f"Compose {engine.compose_version()}"),
    ]
    if not findings[0].ok:
        return findings
    return [
        *findings,
        _finding("image", lambda: require_image(checked.loaded.spec, engine)),
        _finding("ports", lambda: _ports_free(checked, engine)),
        Finding("userland-proxy", True, userland_proxy()),
    ]


def _ports_free(checked: CheckedSpec, engine: Engine) -> str:
    host_report(checked, engine).fail_unless_ok()
    return f"{len(checked.plan.footprints)} profile(s), every port they publish is free"
