"""Rendering a checked spec into a Compose project (pure: no I/O): ``compose.yaml`` + seeds.

One service per profile, built from the target-neutral gateway contract
(:mod:`openclaw_compose.core.contract`): ``network_mode: host`` with ``--bind loopback`` (the
default), or, with ``network: bridge``, B, B+2 and the CDP ports published on
``publish_address`` and carried to loopback by the image's relay.
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
    project_files,
    relay_ports,
    seed_file,
    seed_mount,
)
from openclaw_compose.core.loading import LoadedSpec
from openclaw_compose.core.ports import Footprint, PortPlan, format_range
from openclaw_compose.core.spec import Spec, token_variable
from openclaw_compose.core.yamlout import emit

COMPOSE_FILE = "compose.yaml"
_MISSING_TOKEN = "missing in .env: run openclaw-compose generate"


def render_project(loaded: LoadedSpec, plan: PortPlan, out_dir: Path) -> RenderedProject:
    """The Compose project: ``compose.yaml`` and the seeds."""
    text = header(loaded, out_dir, "generate", _COMPOSE_NOTES) + emit(
        compose_document(loaded.spec, plan, out_dir)
    )
    return project_files(loaded.spec, COMPOSE_FILE, text)


_COMPOSE_NOTES = ("Gateway tokens are read from .env (mode 0600) and never written here.",)


def compose_document(spec: Spec, plan: PortPlan, out_dir: Path) -> dict[str, Any]:
    services: dict[str, Any] = {}
    volumes: dict[str, Any] = {}
    configs: dict[str, Any] = {}
    for fp in plan.footprints:
        mounts = gateway_mounts(spec, fp, out_dir, volumes)
        configs[f"{fp.profile}-seed"] = {"file": f"./{seed_file(fp.profile)}"}
        services[fp.profile] = _service(spec, fp, mounts)
    document: dict[str, Any] = {"name": spec.project, "services": services}
    if volumes:
        document["volumes"] = volumes
    document["configs"] = configs
    return document


def _service(spec: Spec, fp: Footprint, mounts: list[str]) -> dict[str, Any]:
    variable = token_variable(fp.profile)
    environment = gateway_environment(
        fp, {"OPENCLAW_GATEWAY_TOKEN": f"${{{variable}:?{_MISSING_TOKEN}}}"}
    )
    service: dict[str, Any] = {
        "image": literal(spec.profiles[fp.profile].image(spec)),
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
        "healthcheck": healthcheck(fp),
        "labels": labels(fp),
    }


def published_ports(spec: Spec, fp: Footprint) -> list[str]:
    """Short-syntax port mappings, same number inside and out (ranges need the short form)."""
    address = spec.publish_address
    host = f"[{address}]" if address.version == 6 else str(address)
    return [f"{host}:{format_range(*r)}:{format_range(*r)}" for r in fp.published()]
