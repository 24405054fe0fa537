"""Rendering a checked spec into a Compose project (pure: no I/O): ``compose.yaml`` + seeds.

One service per profile, built from the target-neutral gateway contract
(:mod:`openclaw_compose.core.contract`): with ``network: bridge`` (the default) on a network of
its own, B, B+2 and the CDP ports published on ``publish_address`` and carried to loopback by
the image's relay (:mod:`.network`); or ``network_mode: host`` with ``--bind loopback``. Each
service has a fixed ``hostname:`` as in the swarm target: the gateway's owner lease on its state
records the hostname, and a recreated container (``docker rm -f``, then ``up``) takes a dead
owner's lease back at once only under the same one.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from openclaw_compose.core.audit import Expected
from openclaw_compose.core.contract import (
    FRONT_RELAY_VARIABLE,
    NO_NEW_PRIVILEGES,
    RELAY_PORTS_VARIABLE,
    RenderedProject,
    container_limits,
    front_relay,
    gateway_environment,
    gateway_mounts,
    hardening,
    header,
    healthcheck,
    labels,
    literal,
    profile_secrets,
    project_files,
    relay_ports,
    secret_digests,
    secret_mounts,
    seed_file,
    seed_mount,
    service_hostname,
    tmpfs_options,
)
from openclaw_compose.core.front import FRONT_RELAY_ADDRESS, FRONT_SERVICE, haproxy_config
from openclaw_compose.core.front_files import with_front
from openclaw_compose.core.loading import LoadedSpec
from openclaw_compose.core.ports import Footprint, PortPlan
from openclaw_compose.core.sidecars import carrier_service, grant_host_services
from openclaw_compose.core.spec import Spec, digest_variable
from openclaw_compose.core.yamlout import emit
from openclaw_compose.targets.compose.front import MISSING_DIGEST, compose_layout, front_service
from openclaw_compose.targets.compose.network import (
    carriers,
    gateway_attachment,
    host_links,
    project_networks,
)

COMPOSE_FILE = "compose.yaml"
DIGEST_LABEL = "io.openclaw-compose.secrets-digest"
"""A keyed digest of the profile's token and secrets, from .env: a changed value changes the
service's config, so ``docker compose up`` recreates that gateway (and only it); Compose itself
does not look at the values of secrets."""


def render_project(loaded: LoadedSpec, plan: PortPlan, out_dir: Path) -> RenderedProject:
    """The Compose project: ``compose.yaml`` and the seeds."""
    text = header(loaded, out_dir, "generate", _COMPOSE_NOTES) + emit(
        compose_document(loaded.spec, plan, out_dir)
    )
    project = replace(
        project_files(loaded.spec, COMPOSE_FILE, text, secret_digests(loaded.spec)),
        secret_files=True,
    )
    if loaded.spec.front is None:
        return project
    layout = compose_layout(loaded.spec, plan.footprints)
    return with_front(project, loaded.spec, haproxy_config(loaded.spec, layout))


_COMPOSE_NOTES = (
    "Gateway tokens and secrets are kept in .env (mode 0600) and never written here; each is",
    "mounted from secrets/ (mode 0700), which openclaw-compose writes from .env.",
)


def compose_document(spec: Spec, plan: PortPlan, out_dir: Path) -> dict[str, Any]:
    services: dict[str, Any] = {}
    volumes: dict[str, Any] = {}
    configs: dict[str, Any] = {}
    secrets: dict[str, Any] = {}
    for fp in plan.footprints:
        mounts = gateway_mounts(spec, fp, out_dir, volumes)
        configs[f"{fp.profile}-seed"] = {"file": f"./{seed_file(fp.profile)}"}
        for ref in profile_secrets(fp.profile, spec.profiles[fp.profile]):
            secrets[ref.key] = {"file": f"./{ref.file}"}
        services[fp.profile] = _service(spec, fp, mounts, volumes)
    if spec.front is not None:
        services[FRONT_SERVICE] = front_service(spec.front)
    document: dict[str, Any] = {"name": spec.project, "services": services}
    if spec.network == "bridge":
        services |= carriers(spec, plan.footprints) | host_links(spec, plan.footprints)
        document["networks"] = project_networks(spec)
    if volumes:
        document["volumes"] = volumes
    document["configs"] = configs
    document["secrets"] = secrets
    return document


def _service(
    spec: Spec, fp: Footprint, mounts: list[str], volumes: dict[str, Any]
) -> dict[str, Any]:
    environment = gateway_environment(spec, fp)
    service: dict[str, Any] = {
        "image": literal(spec.profiles[fp.profile].image_ref(spec)),
        "hostname": service_hostname(spec.project, fp.profile),
        "restart": "unless-stopped",
    }
    if spec.network == "host":
        bind = "loopback" if spec.publish_address.is_loopback else "lan"
        service |= {"network_mode": "host", "command": ["gateway", "--bind", bind]}
    else:
        environment[RELAY_PORTS_VARIABLE] = relay_ports(fp)
        if fp.fronted:
            environment[FRONT_RELAY_VARIABLE] = front_relay(fp)
        mounts = mounts + grant_host_services(spec, fp.profile, environment, volumes)
        service |= {"command": ["gateway"]} | gateway_attachment(spec, fp)
    return service | {
        "environment": environment,
        "volumes": mounts,
        "configs": seed_mount(fp),
        "secrets": secret_mounts(spec, fp),
        "healthcheck": healthcheck(fp),
        "labels": labels(fp)
        | {DIGEST_LABEL: f"${{{digest_variable(fp.profile)}:?{MISSING_DIGEST}}}"},
        **_hardened(spec, fp),
    }


def expected(spec: Spec, fp: Footprint) -> Expected:
    """What ``doctor`` should find in the profile's running container: the ports it publishes
    (with ``network: bridge``), the host services granted, the limits."""
    limits = container_limits(spec, fp)
    if spec.network != "bridge":
        return Expected(fp.profile, limits, swarm=False)
    address = str(spec.publish_address)
    ports = frozenset(
        (address, port) for low, high in fp.published() for port in range(low, high + 1)
    ) | {(FRONT_RELAY_ADDRESS, low) for low, _ in fp.loopback_published()}
    granted = frozenset(spec.profiles[fp.profile].host_services.values())
    carrier = f"{spec.project}-{carrier_service(fp.profile)}-"  # Compose's container names
    neighbours = frozenset({carrier} if spec.profiles[fp.profile].egress == "none" else set())
    return Expected(fp.profile, limits, False, ports, granted, neighbours)


def _hardened(spec: Spec, fp: Footprint) -> dict[str, Any]:
    """The hardened baseline and the limits (no swap beyond the memory limit)."""
    limits = container_limits(spec, fp)
    return hardening() | {
        "tmpfs": tmpfs_options(),
        "security_opt": [NO_NEW_PRIVILEGES],
        "mem_limit": limits.memory_text(),
        "memswap_limit": limits.memory_text(),
        "cpus": limits.cpus_text(),
        "pids_limit": limits.pids,
    }
