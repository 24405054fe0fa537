"""``openclaw-compose doctor``: is this host ready to run the project, and are its running
gateways what the profiles file says?

Each finding runs one step of the pipeline's preflight on its own (engine, Compose, images,
the target's ports and placement), so that doctor reports all of them instead of stopping at
the first. Then each gateway of the project running on this engine is audited as
``openclaw fleet doctor`` audits its cells (:mod:`openclaw_compose.core.audit`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from openclaw_compose.core.audit import Finding, audit, stat_command
from openclaw_compose.core.native import NativeGateway
from openclaw_compose.engine import Engine
from openclaw_compose.errors import OpenclawComposeError, plural
from openclaw_compose.host.images import require_images
from openclaw_compose.project import CheckedSpec
from openclaw_compose.runtime.pipeline import check_target

DAEMON_CONFIG = Path("/etc/docker/daemon.json")
DOCKER_PROXY_MIB = 655 / 204
"""Measured here: 204 docker-proxy processes held 655 MiB, about as much as two gateways."""
RELAY_MIB = 5.9
"""Measured here: RSS of the image's haproxy relay for one gateway's 101 ports: 5.6 to 5.9 MiB."""


@dataclass(frozen=True, slots=True)
class UserlandProxy:
    """The daemon's userland-proxy setting: one ``docker-proxy`` process per published port."""

    enabled: bool
    source: str

    def __str__(self) -> str:
        return f"{str(self.enabled).lower()} ({self.source})"


def userland_proxy() -> UserlandProxy:
    """The setting as configured in /etc/docker/daemon.json (enabled unless it says false)."""
    try:
        config = json.loads(DAEMON_CONFIG.read_text())
    except FileNotFoundError:
        return UserlandProxy(True, f"the default; no {DAEMON_CONFIG}")
    except (OSError, ValueError) as exc:
        return UserlandProxy(True, f"assumed; {DAEMON_CONFIG} unreadable: {exc}")
    return UserlandProxy(config.get("userland-proxy", True) is not False, str(DAEMON_CONFIG))


def _finding(name: str, probe: Callable[[], str]) -> Finding:
    try:
        return Finding(name, True, probe())
    except OpenclawComposeError as exc:
        return Finding(name, False, exc.message)


def diagnose(checked: CheckedSpec, engine: Engine) -> list[Finding]:
    findings = [
        _finding("engine", lambda: f"Docker {engine.containers.version()}"),
        _finding("compose", lambda: f"Compose {engine.compose.version()}"),
    ]
    if not findings[0].ok:
        return findings
    proxy = userland_proxy()
    return [
        *findings,
        _finding("images", lambda: _images(checked, engine)),
        _finding("ports", lambda: _target_preflight(checked, engine)),
        Finding("native gateways", True, native_summary(checked.natives)),
        Finding("userland-proxy", True, str(proxy)),
        Finding("port carriers", True, projected_overhead(checked, proxy)),
        *running_gateways(checked, engine),
    ]


def running_gateways(checked: CheckedSpec, engine: Engine) -> list[Finding]:
    """The audit of every gateway of the project that runs on this engine."""
    spec, target = checked.loaded.spec, checked.target
    runtime, containers = target.runtime(engine), engine.containers
    findings = []
    for fp in checked.plan.footprints:
        container = runtime.local_gateway(spec, fp.profile)
        if container is None:
            findings.append(
                Finding(fp.profile, True, f"not running {target.here}: nothing to audit")
            )
            continue
        attrs = containers.inspect(container)
        attached = (attrs.get("NetworkSettings") or {}).get("Networks") or {}
        networks = {
            name: containers.inspect_network(name) for name in attached if name not in ("host",)
        }
        _, stat = containers.exec(container, stat_command())
        findings += audit(target.expected(spec, fp), attrs, networks, stat)
    return findings


def _images(checked: CheckedSpec, engine: Engine) -> str:
    spec = checked.loaded.spec
    require_images(spec, engine)
    return ", ".join(sorted({profile.image_ref(spec) for profile in spec.profiles.values()}))


def _target_preflight(checked: CheckedSpec, engine: Engine) -> str:
    check_target(checked, engine)
    return f"{plural(len(checked.plan.footprints), 'profile')}, every port they publish is free"


def native_summary(natives: tuple[NativeGateway, ...]) -> str:
    """The native gateways the checks counted (their conflicts fail the ports finding)."""
    if not natives:
        return "none found (or --ignore-native, or a target that does not run here)"
    return "; ".join(
        f"{native.label} on {native.base} ({native.state_text()}, {native.config_path})"
        for native in natives
    )


def projected_overhead(checked: CheckedSpec, proxy: UserlandProxy) -> str:
    """What carrying the spec's ports to the host will cost, from figures measured here: per
    gateway its relay, a port carrier with ``egress: none``, and (userland proxy on) one
    ``docker-proxy`` per published port."""
    spec, footprints = checked.loaded.spec, checked.plan.footprints
    if spec.network == "host":
        return "none: with 'network: host' every gateway binds its own ports on the host"
    ports = sum(high - low + 1 for fp in footprints for low, high in fp.host_ports("bridge"))
    proxies = ports if proxy.enabled else 0
    relays = len(footprints) + sum(p.egress == "none" for p in spec.profiles.values())
    processes = proxies + relays
    mib = proxies * DOCKER_PROXY_MIB + relays * RELAY_MIB
    advice = "; the daemon's userland-proxy false would avoid the proxies" if proxy.enabled else ""
    return (
        f"{processes} processes, about {mib:.0f} MiB for {plural(len(footprints), 'gateway')} "
        f"({processes / len(footprints):.0f} processes, {mib / len(footprints):.1f} MiB per "
        f"gateway): {proxies} docker-proxy, {relays} relay(s) and port carrier(s){advice}"
    )
