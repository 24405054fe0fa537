"""The compose front: one HAProxy container per project, on the host's network.

It listens on the front's own address and port, and reaches each served gateway where the
host does: its base port with ``network: host``, else its front relay B+1 on the host's
loopback (see :mod:`openclaw_compose.core.front`).
"""

from __future__ import annotations

from typing import Any

from openclaw_compose.core.contract import NO_NEW_PRIVILEGES, hardening, literal
from openclaw_compose.core.front import (
    FRONT_DIGEST_LABEL,
    FRONT_DIGEST_VARIABLE,
    FRONT_DIR,
    FRONT_IMAGE,
    FRONT_LIMITS,
    FRONT_MOUNT,
    FRONT_RELAY_ADDRESS,
    USER_TLS_MOUNT,
    FrontLayout,
    upstream_address,
)
from openclaw_compose.core.frontcerts import SERVER_CERT
from openclaw_compose.core.ports import Footprint
from openclaw_compose.core.spec import FrontCertificate, FrontSpec, Spec

MISSING_DIGEST = "missing in .env: run openclaw-compose generate"


def certificate_path(front: FrontSpec) -> str | None:
    """The certificate the compose front loads (its key next to it as ``<cert>.key``); None:
    no TLS."""
    if front.tls == "none":
        return None
    if front.tls == "local":
        return f"{FRONT_MOUNT}/{SERVER_CERT.removeprefix('front/')}"
    return f"{USER_TLS_MOUNT}/server.crt"


def upstream(spec: Spec, fp: Footprint) -> str:
    """Where the compose front (on the host's network) reaches ``fp``'s gateway: its base port
    with ``network: host``, else its front relay B+1 on the host's loopback."""
    if spec.network == "host":
        return f"{upstream_address(spec)}:{fp.base}"
    return f"{FRONT_RELAY_ADDRESS}:{fp.front_relay}"


def compose_layout(spec: Spec, footprints: tuple[Footprint, ...]) -> FrontLayout:
    """The compose front: on the host's network, on the front's own address and port."""
    front = spec.front
    assert front is not None
    address = f"[{front.address}]" if front.address.version == 6 else str(front.address)
    return FrontLayout(
        bind=f"{address}:{front.port}",
        certificate=certificate_path(front),
        servers={fp.profile: upstream(spec, fp) for fp in footprints if fp.fronted},
    )


FRONT_CAPABILITIES = ("NET_BIND_SERVICE", "SETUID", "SETGID", "DAC_READ_SEARCH")
"""What HAProxy, started as root, still needs: bind a port below 1024, drop to its own user, and
read the key whoever owns it on the host (a 0600 file of the user who ran the tool); no other
capability."""


def front_service(front: FrontSpec) -> dict[str, Any]:
    """HAProxy on the host's network: it reaches every gateway's published base port whatever
    the gateways' networks, and listens on the front's address itself. Hardened as a gateway
    is, with the few capabilities it needs, a read-only root, and limits."""
    volumes = [f"./{FRONT_DIR}:{FRONT_MOUNT}:ro"]
    if isinstance(front.tls, FrontCertificate):
        volumes += [
            f"{literal(str(front.tls.cert))}:{USER_TLS_MOUNT}/server.crt:ro",
            f"{literal(str(front.tls.key))}:{USER_TLS_MOUNT}/server.crt.key:ro",
        ]
    return {
        "image": FRONT_IMAGE,
        "restart": "unless-stopped",
        "network_mode": "host",
        "command": ["haproxy", "-W", "-db", "-f", f"{FRONT_MOUNT}/haproxy.cfg"],
        "volumes": volumes,
        "labels": {FRONT_DIGEST_LABEL: f"${{{FRONT_DIGEST_VARIABLE}:?{MISSING_DIGEST}}}"},
        **hardening(),
        "cap_add": list(FRONT_CAPABILITIES),
        "security_opt": [NO_NEW_PRIVILEGES],
        "read_only": True,
        "mem_limit": FRONT_LIMITS["memory"],
        "memswap_limit": FRONT_LIMITS["memory"],
        "cpus": FRONT_LIMITS["cpus"],
        "pids_limit": FRONT_LIMITS["pids"],
    }
