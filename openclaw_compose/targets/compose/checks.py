"""What the compose target adds to the checks: a Compose project runs on this one host."""

from __future__ import annotations

from collections.abc import Iterator

from openclaw_compose.core.checks import CheckCode, Problem, path_problem
from openclaw_compose.core.hostpaths import not_a_directory, unmountable
from openclaw_compose.core.ports import PortPlan
from openclaw_compose.core.spec import Spec


def compose_problems(spec: Spec, plan: PortPlan) -> Iterator[Problem]:
    """Ports are only checked node by node, but Compose runs every profile on this host: its
    file system holds every bind directory, and its addresses publish every gateway."""
    yield from _on_one_host(plan)
    yield from _directories(spec)
    yield from _exposure(spec)
    yield from _shared_network(spec)
    yield from _host_service_ports(plan, spec)


def _directories(spec: Spec) -> Iterator[Problem]:
    """Bind directories this host cannot make (the core checks report unmountable paths)."""
    for name, profile in spec.profiles.items():
        for role, path in profile.host_paths().items():
            reason = None if unmountable(path) else not_a_directory(path)
            if reason is not None:
                yield path_problem(name, f"{role}_dir", path, reason, profile.node)


def _exposure(spec: Spec) -> Iterator[Problem]:
    """Published beyond loopback, a gateway without auth is anyone's on that network."""
    if spec.publish_address.is_loopback:
        return
    for name, profile in spec.profiles.items():
        auth = profile.auth()
        mode = auth.get("mode") if isinstance(auth, dict) else auth
        if mode == "none":
            yield Problem(
                CheckCode.COMPOSE_AUTH,
                "error",
                (name,),
                f"profiles.{name}.openclaw.gateway.auth.mode is 'none', but publish_address "
                f"{spec.publish_address} is not loopback: anyone on that network could use the "
                "gateway; remove the setting (token is the default) or publish on 127.0.0.1",
                ports=(profile.port,),
                nodes=(profile.node,),
            )


def _shared_network(spec: Spec) -> Iterator[Problem]:
    """``network: host`` gives up isolation between the profiles' networks: say what."""
    if spec.network != "host":
        return
    yield Problem(
        CheckCode.NETWORK_HOST_SHARED,
        "warning",
        tuple(spec.profiles),
        "network: host: every profile's container shares the host's network, so it reaches "
        "every other profile's browser (CDP, no authentication: whoever reaches it drives that "
        "browser with its cookies and sessions) and browser control, and every service on the "
        "host's loopback; use 'network: bridge' (the default) unless one person runs them all",
        nodes=tuple(dict.fromkeys(profile.node for profile in spec.profiles.values())),
    )


def _host_service_ports(plan: PortPlan, spec: Spec) -> Iterator[Problem]:
    """A granted host service listens on the gateway's loopback: not on a port the gateway or
    its browser listens on there."""
    for fp in plan.footprints:
        low, high = fp.span
        own = set(fp.cdp_ports.values())
        for name, port in spec.profiles[fp.profile].host_services.items():
            if low <= port <= high or port in own:
                yield Problem(
                    CheckCode.HOST_SERVICE_PORT,
                    "error",
                    (fp.profile,),
                    f"profiles.{fp.profile}.host_services.{name} is port {port}, which the "
                    f"gateway itself uses (its ports {low}-{high} and CDP ports); the service "
                    "appears on the gateway's loopback at its host port, so run it on a port "
                    "outside them",
                    ports=(port,),
                    nodes=(fp.node,),
                )


def _node_text(node: str | None) -> str:
    return f"node {node!r}" if node is not None else "no node"


def _on_one_host(plan: PortPlan) -> Iterator[Problem]:
    nodes = plan.by_node()
    if len(nodes) > 1:
        where = "; ".join(
            f"{_node_text(node)}: {', '.join(fp.profile for fp in footprints)}"
            for node, footprints in nodes.items()
        )
        yield Problem(
            CheckCode.COMPOSE_NODES,
            "error",
            tuple(fp.profile for fp in plan.footprints),
            f"the profiles are placed on {len(nodes)} nodes ({where}), but a Compose project "
            "runs every profile on this host: use --target swarm, or give every profile the "
            "same node (or none)",
            nodes=tuple(nodes),
        )
