"""How a Compose project's gateways are networked (pure: no I/O).

With ``network: bridge`` (the default) every profile has a bridge network of its own and its
gateway joins only that one: Docker keeps bridge networks apart, so no profile opens a
connection to another profile's container, and a container's loopback is its own, so no
profile reaches a service on the host's loopback. B, B+2 and the CDP ports are published on
``publish_address`` (the image's relay carries B+2 and CDP from the container's address to its
loopback).

``egress: none`` puts the gateway on an ``internal`` network instead, whose bridge has no
address on the host (``inhibit_ipv4``): an internal network alone drops forwarded traffic, but
on engine 20.10 its containers still have a default route to the bridge's address, the host,
and reached every service the host listens on at 0.0.0.0 (measured); without that address they
reach nothing beyond their own network. Docker publishes no port of a container that is only on
internal networks, so a port carrier (one HAProxy process, run from the profile's own image)
joins both the internal network and the profile's own network, publishes the same ports and
forwards each connection to the gateway on the port it arrived on. It re-resolves the gateway
by name through Docker's DNS every second, so a recreated gateway (a new address) is found.
"""

from __future__ import annotations

from typing import Any

from openclaw_compose.core.contract import literal
from openclaw_compose.core.ports import Footprint, format_range
from openclaw_compose.core.spec import Spec

CARRIER_SUFFIX = ".ports"
"""A carrier's service name is its profile's plus this: ``.`` is in no profile name."""
CARRIER_USER = "65534:65534"
"""nobody: the carrier binds unprivileged ports and reads nothing."""
_NO_HOST_ADDRESS = {"com.docker.network.bridge.inhibit_ipv4": "true"}
DOCKER_DNS = "127.0.0.11:53"
"""Docker's embedded DNS server, in every container on a user-defined network."""


def own_network(profile: str) -> str:
    return f"{profile}-net"


def internal_network(profile: str) -> str:
    return f"{profile}-internal"


def carrier_service(profile: str) -> str:
    return profile + CARRIER_SUFFIX


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


def published_ports(spec: Spec, fp: Footprint) -> list[str]:
    """Short-syntax port mappings, same number inside and out (ranges need the short form)."""
    address = spec.publish_address
    host = f"[{address}]" if address.version == 6 else str(address)
    return [f"{host}:{format_range(*r)}:{format_range(*r)}" for r in fp.published()]


def carrier_config(fp: Footprint) -> str:
    """HAProxy's configuration: every published port, to the gateway on the same port."""
    binds = "".join(f"    bind :{format_range(*ports)}\n" for ports in fp.published())
    return (
        "global\n"
        "    maxconn 1024\n"
        "    nbthread 1\n"
        "resolvers docker\n"
        f"    nameserver dns {DOCKER_DNS}\n"
        "    hold valid 1s\n"
        "defaults\n"
        "    mode tcp\n"
        "    retries 0\n"
        "    timeout connect 5s\n"
        "    timeout client 24h\n"
        "    timeout server 24h\n"
        "    timeout client-fin 30s\n"
        "    timeout server-fin 30s\n"
        "frontend ports\n"
        f"{binds}"
        "    default_backend gateway\n"
        "backend gateway\n"
        f"    server gateway {fp.profile} resolvers docker init-addr last,libc,none\n"
    )


_CARRIER_SCRIPT = 'printf %s "$$1" >/tmp/ports.cfg && exec haproxy -db -f /tmp/ports.cfg'
"""Written out by ``sh`` (the ``$`` doubled for Compose), since HAProxy reads files only."""


def _carrier(spec: Spec, fp: Footprint) -> dict[str, Any]:
    return {
        "image": literal(spec.profiles[fp.profile].image_ref(spec)),
        "restart": "unless-stopped",
        "entrypoint": ["sh", "-c", _CARRIER_SCRIPT, "carrier", carrier_config(fp)],
        "user": CARRIER_USER,
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges:true"],
        "read_only": True,
        "tmpfs": ["/tmp"],
        "networks": [own_network(fp.profile), internal_network(fp.profile)],
        "ports": published_ports(spec, fp),
        "depends_on": [fp.profile],
    }
