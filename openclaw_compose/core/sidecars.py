"""The helpers that run next to a gateway on both targets, one HAProxy process each from the
profile's own image (pure): a *port carrier*, which publishes the ports of a gateway that has no
way out (``egress: none``) and forwards each connection to it on the port it arrived on, and a
*host link*, which connects the Unix sockets of a profile's granted host services to their
ports on the host's loopback (see :mod:`openclaw_compose.targets.compose.network`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openclaw_compose.core.contract import CONTAINER_UID, HOST_SERVICES_DIR, HOST_SERVICES_VARIABLE
from openclaw_compose.core.ports import PortRange, format_range
from openclaw_compose.core.spec import Spec

CARRIER_SUFFIX = ".ports"
"""A carrier's service name is its profile's plus this: ``.`` is in no profile name."""
HOST_LINK_SUFFIX = ".host"
"""The same for a host link."""
CARRIER_USER = "65534:65534"
"""nobody: the carrier binds unprivileged ports and reads nothing."""
HOST_LINK_USER = f"{CONTAINER_UID}:{CONTAINER_UID}"
"""The gateway's own user: the sockets it makes are the gateway's to open (mode 600)."""
HELPER_MEMORY = "64m"
HELPER_PIDS = 64
HELPER_CPUS = "0.5"
"""Limits of a carrier or host link (one HAProxy process, about 14 MiB measured)."""
DOCKER_DNS = "127.0.0.11:53"
"""Docker's embedded DNS server, in every container on a user-defined network."""


def host_services_volume(profile: str) -> str:
    return f"{profile}-host-services"


def host_services_mount(profile: str) -> str:
    """The volume of a profile's host service sockets, where its gateway and host link see it."""
    return f"{host_services_volume(profile)}:{HOST_SERVICES_DIR}"


def grant_host_services(
    spec: Spec, profile: str, environment: dict[str, str], volumes: dict[str, Any]
) -> list[str]:
    """For a profile granted ``host_services``: the ports in its ``environment``, the shared
    volume in the project's ``volumes``; the gateway's extra mount (none without a grant)."""
    services = spec.profiles[profile].host_services
    if not services:
        return []
    environment[HOST_SERVICES_VARIABLE] = ",".join(str(p) for p in sorted(services.values()))
    volumes[host_services_volume(profile)] = {}
    return [host_services_mount(profile)]


def carrier_service(profile: str) -> str:
    return profile + CARRIER_SUFFIX


def host_link_service(profile: str) -> str:
    return profile + HOST_LINK_SUFFIX


_HAPROXY_HEAD = (
    "global\n"
    "    maxconn 1024\n"
    "    nbthread 1\n"
    "defaults\n"
    "    mode tcp\n"
    "    retries 0\n"
    "    timeout connect 5s\n"
    "    timeout client 24h\n"
    "    timeout server 24h\n"
    "    timeout client-fin 30s\n"
    "    timeout server-fin 30s\n"
)
"""TCP only (WebSockets and streamed answers pass untouched), long idle timeouts."""


def carrier_config(ports: list[PortRange], gateway: str) -> str:
    """HAProxy's configuration: each of ``ports``, to the gateway (a name Docker's DNS
    resolves, asked again every second: a recreated gateway has a new address) on the same
    port."""
    binds = "".join(f"    bind :{format_range(*r)}\n" for r in ports)
    return (
        _HAPROXY_HEAD + "resolvers docker\n"
        f"    nameserver dns {DOCKER_DNS}\n"
        "    hold valid 1s\n"
        "frontend ports\n"
        f"{binds}"
        "    default_backend gateway\n"
        "backend gateway\n"
        f"    server gateway {gateway} resolvers docker init-addr last,libc,none\n"
    )


def host_link_config(services: Mapping[str, int]) -> str:
    """HAProxy's configuration: a socket per granted service, to its port on the host."""
    return _HAPROXY_HEAD + "".join(
        f"listen {name}\n"
        f"    bind unix@{HOST_SERVICES_DIR}/{port}.sock mode 600\n"
        f"    server host 127.0.0.1:{port}\n"
        for name, port in sorted(services.items())
    )


def helper_entrypoint(role: str, config: str) -> list[str]:
    """``sh`` writes ``config`` out (HAProxy reads files only) and runs HAProxy on it; the
    ``$`` doubled for Compose's and the stack loader's interpolation."""
    return ["sh", "-c", _HAPROXY_SCRIPT, role, config]


_HAPROXY_SCRIPT = 'printf %s "$$1" >/tmp/haproxy.cfg && exec haproxy -db -f /tmp/haproxy.cfg'
