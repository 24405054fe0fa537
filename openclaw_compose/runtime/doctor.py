"""``openclaw-compose doctor``: is this host ready to run the project?"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from openclaw_compose.core.checks import HostFacts
from openclaw_compose.core.native import NativeGateway
from openclaw_compose.core.project import CheckedSpec, check_spec
from openclaw_compose.engine.client import Engine, UserlandProxy, userland_proxy
from openclaw_compose.errors import OpenclawComposeError
from openclaw_compose.targets.compose.runtime import host_report, require_image

DOCKER_PROXY_MIB = 655 / 204
"""Measured here: 204 docker-proxy processes held 655 MiB (openclaw-facts.md)."""
RELAY_MIB = 5.9
"""Measured here: RSS of the image's haproxy relay for one gateway's 101 ports: 5.6 to 5.9 MiB."""


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


def diagnose(file: Path | None, host: HostFacts | None = None) -> list[Finding]:
    engine = Engine()
    checked = check_spec(file, host)
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
        Finding("native gateways", True, native_summary(checked.natives)),
        Finding("userland-proxy", True, str(userland_proxy())),
        Finding("port carriers", True, projected_overhead(checked, userland_proxy())),
    ]


def native_summary(natives: tuple[NativeGateway, ...]) -> str:
    """The native gateways the checks counted (their conflicts fail the ports finding)."""
    if not natives:
        return "none found (or --ignore-native)"
    return "; ".join(
        f"{native.label} on {native.base} ({native.state_text()}, {native.config_path})"
        for native in natives
    )


def projected_overhead(checked: CheckedSpec, proxy: UserlandProxy) -> str:
    """What carrying the spec's ports to the host will cost, from figures measured here."""
    spec, footprints = checked.loaded.spec, checked.plan.footprints
    if spec.network == "host":
        return "none: with 'network: host' every gateway binds its own ports on the host"
    ports = sum(high - low + 1 for fp in footprints for low, high in fp.published())
    proxies = ports if proxy.enabled else 0
    processes = proxies + len(footprints)
    mib = proxies * DOCKER_PROXY_MIB + len(footprints) * RELAY_MIB
    advice = (
        "; 'network: host' or the daemon's userland-proxy false would avoid the proxies"
        if proxy.enabled
        else ""
    )
    return (
        f"{processes} processes, about {mib:.0f} MiB for {len(footprints)} gateway(s): "
        f"{proxies} docker-proxy, {len(footprints)} relay{advice}"
    )


def _ports_free(checked: CheckedSpec, engine: Engine) -> str:
    host_report(checked, engine).fail_unless_ok()
    return f"{len(checked.plan.footprints)} profile(s), every port they publish is free"
