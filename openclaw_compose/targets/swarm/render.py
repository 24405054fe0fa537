"""Rendering a checked spec into a Docker Swarm stack file (pure: no I/O).

``docker stack deploy`` reads the Compose file format 3.x with the docker CLI's own loader, not
Compose v2, and ignores (with a warning) what swarm cannot do. So the stack says everything the
swarm way: ``deploy.restart_policy`` instead of ``restart``; a placement constraint pinning each
gateway to its node, where its volumes live; the gateway port published in ``mode: host`` on
that node only (the routing mesh would publish every profile on every node, and one node's port
plan would then be every node's); one overlay network per profile, as isolated as the profiles.

Each service has a fixed ``hostname:``. The gateway holds an owner lease on its state directory
that records the hostname, and takes over a dead owner's lease only from the same hostname. A
swarm task is a new container each time, and without a fixed hostname a killed gateway's
replacement waited for the 300 s lease to expire; with it, it starts at once (as Compose's
restarted container, which keeps its hostname, always did).

Swarm cannot publish on 127.0.0.1: a published port listens on every address of the node. So
every gateway needs its token (the checks enforce token auth). The token and the profile's
secrets are swarm secrets, mounted as files and exported by the image's entrypoint (the
container contract, :mod:`openclaw_compose.core.contract`), so no value is in an environment
that ``docker inspect`` shows; browser control and CDP are published only when
``swarm.publish_browser_ports`` opts in. Secrets are external: ``openclaw-compose deploy``
creates them from ``.env`` through the API, so no value is ever written to another file.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from openclaw_compose.core.audit import Expected
from openclaw_compose.core.contract import (
    FRONT_RELAY_VARIABLE,
    RELAY_PORTS_VARIABLE,
    RenderedProject,
    SecretRef,
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
    secret_mounts,
    seed_file,
    seed_mount,
    seed_text,
    service_hostname,
    tmpfs_mounts,
)
from openclaw_compose.core.front import FRONT_LIMITS, FRONT_SERVICE, haproxy_config
from openclaw_compose.core.front_files import with_front
from openclaw_compose.core.loading import LoadedSpec
from openclaw_compose.core.ports import Footprint, PortPlan
from openclaw_compose.core.sidecars import grant_host_services
from openclaw_compose.core.spec import Spec, node_label
from openclaw_compose.core.yamlout import emit
from openclaw_compose.targets.swarm import front
from openclaw_compose.targets.swarm.sidecars import (
    HOST_NETWORK,
    SIDECAR_LIMITS,
    carrier,
    carrier_name,
    host_link,
    host_link_name,
    host_ports,
    profile_networks,
    sidecar_names,
)

STACK_FILE = "stack.yaml"
STACK_VERSION = "3.9"
"""The oldest format whose ``deploy.resources.limits`` takes ``pids`` (3.8's schema refuses it);
engine 20.10 (API 1.41) honours every key the stack uses (seen: ``PidsLimit``, ``CapDrop``,
``ReadonlyRootfs`` and the tmpfs mounts in the task container's inspect)."""
CONTAINER_USER = "1000"
SECRET_MODE = 0o400
"""Written as 256 (the emitter writes decimal; the stack loader reads a plain number)."""
RESTART_DELAY = "1s"
"""Between a task's death and its replacement: short, so that a gateway is back within 30 s
(its own start takes 10 to 20 s); a crash loop is still paced by the gateway's start."""
SWARM_HEALTHCHECK = {"timeout": "10s", "start_period": "180s"}
"""Swarm replaces a task whose healthcheck fails (Compose only marks the container): on a
loaded node a gateway's first start took over 90 s, and the tasks were killed over and over
before they could answer. So a longer grace and timeout than Compose's."""
UPDATE_CONFIG = {
    "parallelism": 1,
    "order": "stop-first",
    "failure_action": "rollback",
    "monitor": "15s",
    "max_failure_ratio": 0,
}
"""How swarm moves a gateway to a new image (``openclaw-compose upgrade --target swarm``, or
any deploy that changes it): stop the old task first (the new one needs the same host ports and
the owner lease of the same state), then watch the new one; a task that exits (code 78: state
that cannot be migrated), or never turns healthy (the healthcheck judges it), or fails within
``monitor`` after turning healthy, makes swarm roll the service back to its previous image."""
ROLLBACK_CONFIG = {"parallelism": 1, "order": "stop-first", "failure_action": "pause"}
UNPLACED_CONSTRAINT = "node.role == manager"
"""Where profiles without ``node:`` go: the manager (``deploy`` refuses when there are several)."""
_NOTES = (
    "Deploy with 'openclaw-compose deploy': it checks placement and ports, creates each gateway's",
    "token and secrets as swarm secrets from .env (no value is written here), then runs",
    "docker stack deploy.",
    "Swarm publishes ports on every address of a node, not on 127.0.0.1: every gateway",
    "requires its token.",
)


def render_stack(loaded: LoadedSpec, plan: PortPlan, out_dir: Path) -> RenderedProject:
    """The swarm target: ``stack.yaml``, the same seeds as the Compose project, and the
    front's files."""
    spec = loaded.spec
    config = haproxy_config(spec, front.layout(spec, plan.footprints)) if spec.front else None
    text = header(loaded, out_dir, "generate --target swarm", _NOTES) + emit(
        stack_document(spec, plan, out_dir, config)
    )
    project = project_files(spec, STACK_FILE, text)
    return project if config is None else with_front(project, spec, config)


def swarm_secret(project: str, ref: SecretRef) -> str:
    """The swarm secret holding a profile's token or secret (``deploy`` creates it from
    ``.env``)."""
    return f"{project}_{ref.key}"


def seed_config_name(project: str, profile: str, seed: str) -> str:
    """Swarm configs cannot change: a changed seed gets a new name, so redeploying works."""
    return f"{project}_{profile}-seed-{hashlib.sha256(seed.encode()).hexdigest()[:12]}"


def placement_constraint(node: str | None) -> str:
    if node is None:
        return UNPLACED_CONSTRAINT
    label = node_label(node)
    return f"node.labels.{label[0]} == {label[1]}" if label else f"node.hostname == {node}"


def stack_document(
    spec: Spec, plan: PortPlan, out_dir: Path, front_config: str | None = None
) -> dict[str, Any]:
    """The stack; with ``front_config`` (the front's HAProxy config), the front too."""
    services: dict[str, Any] = {}
    networks: dict[str, Any] = {}
    volumes: dict[str, Any] = {}
    configs: dict[str, Any] = {}
    secrets: dict[str, Any] = {}
    for fp in plan.footprints:
        profile = spec.profiles[fp.profile]
        mounts = gateway_mounts(spec, fp, out_dir, volumes)
        networks |= profile_networks(spec, fp.profile)
        configs[f"{fp.profile}-seed"] = {
            "name": seed_config_name(spec.project, fp.profile, seed_text(spec, fp.profile)),
            "file": f"./{seed_file(fp.profile)}",
        }
        for ref in profile_secrets(fp.profile, profile):
            secrets[ref.key] = {"name": swarm_secret(spec.project, ref), "external": True}
        services[fp.profile] = _service(spec, fp, mounts, volumes)
        sidecar_deploy = _deploy(dict(SIDECAR_LIMITS), fp.node)
        if profile.egress == "none":
            services[carrier_name(fp.profile)] = carrier(spec, fp, sidecar_deploy)
        if profile.host_services:
            services[host_link_name(fp.profile)] = host_link(spec, fp, sidecar_deploy)
            networks[HOST_NETWORK] = {"external": True, "name": "host"}
    if front_config is not None:
        service, front_configs, front_secrets = front.stack_objects(
            spec, plan, front_config, CONTAINER_USER, SECRET_MODE
        )
        services[FRONT_SERVICE] = service | {"deploy": _deploy(dict(FRONT_LIMITS))}
        if front.FRONT_NETWORK in service["networks"]:
            networks[front.FRONT_NETWORK] = {"driver": "overlay"}
        configs |= front_configs
        secrets |= front_secrets
    document: dict[str, Any] = {"version": STACK_VERSION, "services": services}
    document["networks"] = networks
    if volumes:
        document["volumes"] = volumes
    document["configs"] = configs
    document["secrets"] = secrets
    return document


def stack_part(stack_text: str, profile: str) -> str:
    """The stack file cut down to ``profile``'s service (and its sidecars') and what they name
    (networks, named volumes, seed config and secrets), as written: deployed without
    ``--prune`` it updates that service alone, whatever the file says of the others (see
    ``SwarmRuntime.start_gateway``)."""
    document = YAML(typ="safe").load(stack_text)
    services = {profile: document["services"][profile]}  # KeyError: not in the stack
    for sidecar in sidecar_names(profile):
        if sidecar in document["services"]:
            services[sidecar] = document["services"][sidecar]
    named: dict[str, set[str]] = {key: set() for key in ("networks", "volumes", "configs")}
    named["secrets"] = set()
    for service in services.values():
        named["networks"] |= set(service.get("networks", []))
        named["volumes"] |= {
            mount.partition(":")[0]
            for mount in service.get("volumes", [])
            if isinstance(mount, str)
        }
        named["configs"] |= {config["source"] for config in service.get("configs", [])}
        named["secrets"] |= {secret["source"] for secret in service.get("secrets", [])}
    part: dict[str, Any] = {"version": document["version"], "services": services}
    for key, wanted in named.items():
        kept = {name: value for name, value in (document.get(key) or {}).items() if name in wanted}
        if kept:
            part[key] = kept
    return emit(part)


def _limits(spec: Spec, fp: Footprint) -> dict[str, Any]:
    """``deploy.resources.limits``; swarm has no swap limit and no no-new-privileges."""
    limits = container_limits(spec, fp)
    return {"cpus": limits.cpus_text(), "memory": limits.memory_text(), "pids": limits.pids}


def _service(
    spec: Spec, fp: Footprint, mounts: list[str], volumes: dict[str, Any]
) -> dict[str, Any]:
    browser_ports = spec.swarm.publish_browser_ports
    environment = gateway_environment(spec, fp)
    mounts = mounts + grant_host_services(spec, fp.profile, environment, volumes)
    if browser_ports:
        environment[RELAY_PORTS_VARIABLE] = relay_ports(fp)
    if fp.fronted:
        environment[FRONT_RELAY_VARIABLE] = front_relay(fp)
    published = fp.published(browser=browser_ports)
    carried = spec.profiles[fp.profile].egress == "none"  # then its carrier publishes them
    return {
        "image": literal(spec.profiles[fp.profile].image_ref(spec)),
        "hostname": service_hostname(spec.project, fp.profile),
        "command": ["gateway"],
        "environment": environment,
        **({} if carried else {"ports": host_ports(published)}),
        "volumes": [*mounts, *tmpfs_mounts()],
        "configs": seed_mount(fp),
        "secrets": secret_mounts(
            spec, fp, uid=CONTAINER_USER, gid=CONTAINER_USER, mode=SECRET_MODE
        ),
        "networks": [front.network(fp.profile)],
        "healthcheck": healthcheck(fp) | SWARM_HEALTHCHECK,
        "labels": labels(fp),
        **hardening(),
        "deploy": _deploy(_limits(spec, fp), fp.node)
        | {"update_config": UPDATE_CONFIG, "rollback_config": ROLLBACK_CONFIG},
    }


def expected(spec: Spec, fp: Footprint) -> Expected:
    """What ``doctor`` should find in the profile's task container: the limits (a stack says
    neither no-new-privileges nor a swap limit, and publishes on every address), and who may
    share its network: its carrier and the front (task containers are named
    ``<stack>_<service>.<slot>.<task id>``)."""
    neighbours = frozenset(
        f"{spec.project}_{service}." for service in (FRONT_SERVICE, carrier_name(fp.profile))
    )
    granted = frozenset(spec.profiles[fp.profile].host_services.values())
    limits = container_limits(spec, fp)
    return Expected(fp.profile, limits, True, host_services=granted, neighbours=neighbours)


def _deploy(limits: dict[str, Any], node: str | None = None) -> dict[str, Any]:
    """One task with ``limits``, always restarted, on ``node`` (None: the manager)."""
    return {
        "resources": {"limits": limits},
        "replicas": 1,
        "restart_policy": {"condition": "any", "delay": RESTART_DELAY},
        "placement": {"constraints": [placement_constraint(node)]},
    }
