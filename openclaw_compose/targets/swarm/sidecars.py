"""A swarm profile's sidecars (pure): the port carrier of an ``egress: none`` profile and the
host link of one granted ``host_services``, the compose target's HAProxy sidecars
(:mod:`openclaw_compose.core.sidecars`) as stack services on the gateway's node, and the
networks they need."""

from __future__ import annotations

from typing import Any

from openclaw_compose.core.contract import hardening, literal
from openclaw_compose.core.ports import Footprint, PortRange
from openclaw_compose.core.sidecars import (
    CARRIER_USER,
    HELPER_CPUS,
    HELPER_MEMORY,
    HELPER_PIDS,
    HOST_LINK_USER,
    carrier_config,
    helper_entrypoint,
    host_link_config,
    host_services_mount,
)
from openclaw_compose.core.spec import Spec
from openclaw_compose.targets.swarm import front

HOST_NETWORK = "hostnet"
"""The stack's name for the engine's ``host`` network (a host link's): no profile's network
(``<profile>-net``, ``-edge``) can be named so."""
SIDECAR_LIMITS = {"cpus": HELPER_CPUS, "memory": HELPER_MEMORY, "pids": HELPER_PIDS}
"""``deploy.resources.limits`` of a carrier or host link."""


def carrier_name(profile: str) -> str:
    """The service of a profile's port carrier (``egress: none``): swarm's names take no
    ``.``, unlike Compose's (:func:`openclaw_compose.core.sidecars.carrier_service`), so the
    checks refuse a profile of this name (``swarm-sidecar-name``)."""
    return f"{profile}-ports"


def host_link_name(profile: str) -> str:
    """The service of a profile's host link (``host_services``); the same goes for it."""
    return f"{profile}-host"


def sidecar_names(profile: str) -> tuple[str, str]:
    return carrier_name(profile), host_link_name(profile)


def profile_networks(spec: Spec, profile: str) -> dict[str, Any]:
    """The profile's own overlay network; with ``egress: none`` an internal one, which gives
    its tasks no ``docker_gwbridge`` (no way out, and no published port: seen on the one-node
    swarm), and the carrier's own network, through which the carrier publishes."""
    if spec.profiles[profile].egress != "none":
        return {front.network(profile): {"driver": "overlay"}}
    return {
        front.network(profile): {"driver": "overlay", "internal": True},
        edge_network(profile): {"driver": "overlay"},
    }


def edge_network(profile: str) -> str:
    return f"{profile}-edge"


def host_ports(ranges: list[PortRange]) -> list[dict[str, Any]]:
    """Published on the task's node (``mode: host``), one entry per port: the stack loader
    takes no ranges in the long syntax."""
    return [
        {"target": port, "published": port, "mode": "host"}
        for low, high in ranges
        for port in range(low, high + 1)
    ]


def host_link(spec: Spec, fp: Footprint, deploy: dict[str, Any]) -> dict[str, Any]:
    """The host link of a profile granted ``host_services``: the compose target's HAProxy
    sidecar, on the host's network of the gateway's node (where the host services listen on
    127.0.0.1), sharing the sockets' volume with the gateway, which only they two mount."""
    config = host_link_config(spec.profiles[fp.profile].host_services)
    return {
        "image": literal(spec.profiles[fp.profile].image_ref(spec)),
        "entrypoint": helper_entrypoint("host-link", config),
        "user": HOST_LINK_USER,
        "volumes": [host_services_mount(fp.profile), {"type": "tmpfs", "target": "/tmp"}],
        "networks": [HOST_NETWORK],
        **hardening(),
        "deploy": deploy,
    }


def carrier(spec: Spec, fp: Footprint, deploy: dict[str, Any]) -> dict[str, Any]:
    """The port carrier of an ``egress: none`` profile: HAProxy (the compose target's sidecar)
    on the profile's internal network and its own, on the gateway's node, publishing the
    gateway's ports and forwarding each connection to its task (``tasks.<profile>``)."""
    published = fp.published(browser=spec.swarm.publish_browser_ports)
    return {
        "image": literal(spec.profiles[fp.profile].image_ref(spec)),
        "entrypoint": helper_entrypoint(
            "carrier", carrier_config(published, f"tasks.{fp.profile}")
        ),
        "user": CARRIER_USER,
        "ports": host_ports(published),
        "volumes": [{"type": "tmpfs", "target": "/tmp"}],
        "networks": [front.network(fp.profile), edge_network(fp.profile)],
        **hardening(),
        "deploy": deploy,
    }
