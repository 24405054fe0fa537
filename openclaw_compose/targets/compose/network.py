"""How a Compose project's gateways are networked (pure: no I/O).

With ``network: bridge`` (the default) every profile has a bridge network of its own and its
gateway joins only that one: Docker keeps bridge networks apart, so no profile opens a
connection to another profile's container, and a container's loopback is its own, so no
profile reaches a service on the host's loopback. B, B+2 and the CDP ports are published on
``publish_address`` (the image's relay carries B+2 and CDP from the container's address to its
loopback). Behind the HTTPS front, B+1 is published on the host's loopback only, and the relay
carries it to the gateway's base port on its loopback (see :mod:`openclaw_compose.core.front`).

``egress: none`` puts the gateway on an ``internal`` network instead, whose bridge has no
address on the host (``inhibit_ipv4``): an internal network alone drops forwarded traffic, but
on engine 20.10 its containers still have a default route to the bridge's address, the host,
and reached every service the host listens on at 0.0.0.0 (measured); without that address they
reach nothing beyond their own network. Docker publishes no port of a container that is only on
internal networks, so a port carrier (one HAProxy process, run from the profile's own image)
joins both the internal network and the profile's own network, publishes the same ports and
forwards each connection to the gateway on the port it arrived on. It re-resolves the gateway
by name through Docker's DNS every second, so a recreated gateway (a new address) is found.

``host_services`` grants a profile named services on the host's loopback, and nothing else of
it. A *host link* (one HAProxy process on the host's network, run from the profile's own image
as uid 1000) listens on a Unix socket per service, in a volume that only it and that profile's
gateway mount, and connects each to the service's port on the host's 127.0.0.1; the image's
relay listens on the same port on the gateway's loopback and forwards to the socket. No TCP
port is opened anywhere: no other profile has the socket, so no other profile reaches the
service.
"""

from __future__ import annotations

from typing import Any

from openclaw_compose.core.contract import (
    CAP_DROP,
    LOGGING,
    NO_NEW_PRIVILEGES,
    literal,
)
from openclaw_compose.core.front import FRONT_RELAY_ADDRESS
from openclaw_compose.core.ports import Footprint, format_range
from openclaw_compose.core.sidecars import (
    CARRIER_USER,
    HELPER_CPUS,
    HELPER_MEMORY,
    HELPER_PIDS,
    HOST_LINK_USER,
    carrier_config,
    carrier_service,
    helper_entrypoint,
    host_link_config,
    host_link_service,
    host_services_mount,
)
from openclaw_compose.core.spec import Spec

_NO_HOST_ADDRESS = {"com.docker.network.bridge.inhibit_ipv4": "true"}


def own_network(profile: str) -> str:
    return f"{profile}-net"


def internal_network(profile: str) -> str:
    return f"{profile}-internal"


def profile_services(spec: Spec, profile: str) -> list[str]:
    """The Compose services of one profile: its gateway, then its carrier and host link (if
    it has them), which ``up --no-deps PROFILE`` would otherwise leave out."""
    if spec.network != "bridge":
        return [profile]
    settings = spec.profiles[profile]
    return [
        profile,
        *[carrier_service(profile)] * (settings.egress == "none"),
        *[host_link_service(profile)] * bool(settings.host_services),
    ]


def project_networks(spec: Spec) -> dict[str, Any]:
    """The project's networks: one per profile, plus an internal one per ``egress: none``."""
    networks: dict[str, Any] = {}
    for name, profile in spec.profiles.items():
        networks[own_network(name)] = {}
        if profile.egress == "none":
            networks[internal_network(name)] = {"internal": True, "driver_opts": _NO_HOST_ADDRESS}
    return networks


def gateway_attachment(spec: Spec, fp: Footprint) -> dict[str, Any]:
    """The gateway service's ``networks`` and, unless a carrier publishes them, ``ports``."""
    if spec.profiles[fp.profile].egress == "none":
        return {"networks": [internal_network(fp.profile)]}
    return {"networks": [own_network(fp.profile)], "ports": published_ports(spec, fp)}


def carriers(spec: Spec, footprints: tuple[Footprint, ...]) -> dict[str, Any]:
    """A port carrier service per ``egress: none`` profile."""
    return {
        carrier_service(fp.profile): _carrier(spec, fp)
        for fp in footprints
        if spec.profiles[fp.profile].egress == "none"
    }


def host_links(spec: Spec, footprints: tuple[Footprint, ...]) -> dict[str, Any]:
    """A host link service per profile granted ``host_services``."""
    return {
        host_link_service(fp.profile): _host_link(spec, fp)
        for fp in footprints
        if spec.profiles[fp.profile].host_services
    }


def published_ports(spec: Spec, fp: Footprint) -> list[str]:
    """Short-syntax port mappings, same number inside and out (ranges need the short form):
    on ``publish_address``, and the front's way in on the host's loopback only."""
    address = spec.publish_address
    host = f"[{address}]" if address.version == 6 else str(address)
    return [f"{host}:{format_range(*r)}:{format_range(*r)}" for r in fp.published()] + [
        f"{FRONT_RELAY_ADDRESS}:{format_range(*r)}:{format_range(*r)}"
        for r in fp.loopback_published()
    ]


def _carrier(spec: Spec, fp: Footprint) -> dict[str, Any]:
    config = carrier_config(fp.published() + fp.loopback_published(), fp.profile)
    return _helper(spec, fp, "carrier", config) | {
        "user": CARRIER_USER,
        "networks": [own_network(fp.profile), internal_network(fp.profile)],
        "ports": published_ports(spec, fp),
        "depends_on": [fp.profile],
    }


def _host_link(spec: Spec, fp: Footprint) -> dict[str, Any]:
    services = spec.profiles[fp.profile].host_services
    return _helper(spec, fp, "host-link", host_link_config(services)) | {
        "user": HOST_LINK_USER,
        "network_mode": "host",
        "volumes": [host_services_mount(fp.profile)],
    }


def _helper(spec: Spec, fp: Footprint, role: str, config: str) -> dict[str, Any]:
    """One HAProxy process from the profile's own image, hardened and inside small limits."""
    return {
        "image": literal(spec.profiles[fp.profile].image_ref(spec)),
        "restart": "unless-stopped",
        "entrypoint": helper_entrypoint(role, config),
        "cap_drop": list(CAP_DROP),
        "security_opt": [NO_NEW_PRIVILEGES],
        "read_only": True,
        "tmpfs": ["/tmp"],
        "logging": LOGGING,
        "mem_limit": HELPER_MEMORY,
        "memswap_limit": HELPER_MEMORY,
        "cpus": HELPER_CPUS,
        "pids_limit": HELPER_PIDS,
    }
