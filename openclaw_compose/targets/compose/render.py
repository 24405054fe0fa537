"""Rendering a checked spec into a Compose project (pure: no I/O): ``compose.yaml`` + seeds.

One service per profile, built from the target-neutral gateway contract
(:mod:`openclaw_compose.core.contract`): ``network_mode: host`` with ``--bind loopback`` (the
default), or, with ``network: bridge``, B, B+2 and the CDP ports published on
``publish_address`` and carried to loopback by the image's relay. Each service has a fixed
``hostname:`` as in the swarm target: the gateway's owner lease on its state records the
hostname, and a recreated container (``docker rm -f``, then ``up``) takes a dead owner's lease
back at once only under the same one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openclaw_compose.core.contract import (
    RELAY_PORTS_VARIABLE,
    RenderedProject,
    gateway_environment,
    gateway_mounts,
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
)
from openclaw_compose.core.loading import LoadedSpec
from openclaw_compose.core.ports import Footprint, PortPlan, format_range
from openclaw_compose.core.spec import Spec, digest_variable
from openclaw_compose.core.yamlout import emit

COMPOSE_FILE = "compose.yaml"
DIGEST_LABEL = "io.openclaw-compose.secrets-digest"
"""A keyed digest of the profile's token and secrets, from .env: a changed value changes the
service's config, so ``docker compose up`` recreates that gateway (and only it); Compose itself
does not look at the values of secrets."""
SECRET_MODE = 0o444
"""Compose writes a secret from .env into the container as a root-owned file: the gateway
(uid 1000) reads it only with the read bit for all; the container runs nothing but the gateway.
(Compose's uid/gid for such files fail on engine 20.10: 'getent unable to find entry'.)"""
_MISSING_DIGEST = "missing in .env: run openclaw-compose generate"


def render_project(loaded: LoadedSpec, plan: PortPlan, out_dir: Path) -> RenderedProject:
    """The Compose project: ``compose.yaml`` and the seeds."""
    text = header(loaded, out_dir, "generate", _COMPOSE_NOTES) + emit(
        compose_document(loaded.spec, plan, out_dir)
    )
    return project_files(loaded.spec, COMPOSE_FILE, text, secret_digests(loaded.spec))


_COMPOSE_NOTES = (
    "Gateway tokens and secrets are read from .env (mode 0600) and never written here.",
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
            secrets[ref.key] = {"environment": ref.variable}
        services[fp.profile] = _service(spec, fp, mounts)
    document: dict[str, Any] = {"name": spec.project, "services": services}
    if volumes:
        document["volumes"] = volumes
    document["configs"] = configs
    document["secrets"] = secrets
    return document


def _service(spec: Spec, fp: Footprint, mounts: list[str]) -> dict[str, Any]:
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
        service |= {"command": ["gateway"], "ports": published_ports(spec, fp)}
    return service | {
        "environment": environment,
        "volumes": mounts,
        "configs": seed_mount(fp),
        "secrets": secret_mounts(spec, fp, mode=SECRET_MODE),
        "healthcheck": healthcheck(fp),
        "labels": labels(fp)
        | {DIGEST_LABEL: f"${{{digest_variable(fp.profile)}:?{_MISSING_DIGEST}}}"},
    }


def published_ports(spec: Spec, fp: Footprint) -> list[str]:
    """Short-syntax port mappings, same number inside and out (ranges need the short form)."""
    address = spec.publish_address
    host = f"[{address}]" if address.version == 6 else str(address)
    return [f"{host}:{format_range(*r)}:{format_range(*r)}" for r in fp.published()]
