"""The swarm front: one HAProxy service per stack, on the manager.

It is published on the manager in ``mode: host``, not on the ingress. The routing mesh would
publish it on every node, and it would hide each client's address behind the mesh's own, so the
gateways would log the mesh instead of the laptop. The names' DNS records point at one known
node: the manager, where profiles without ``node:`` run too.

It joins each served profile's own overlay network and reaches that gateway there at its task's
address (``tasks.PROFILE``; the service's virtual address answered EHOSTUNREACH on B+1, seen on
the one-node swarm), on B+1, which the image's relay carries to the gateway's loopback B. So the
gateway sees its trusted proxy on loopback, as on Compose. B+1 is not published: only the
members of that profile's network reach it, which are its gateway and the front. HAProxy
resolves the names through Docker's DNS while it runs, so a gateway that is not up yet leaves
its backend down, not the front.

It runs the first profile's gateway image, which is on every node already (or in the registry),
with HAProxy as its entrypoint, as the image's user, with no capability and a read-only root. It
listens on :data:`LISTEN_PORT` inside, published as ``front.port``. Its certificate and key are
one swarm secret (:func:`tls_secret`) that ``deploy`` creates from the files (the local CA's in
``front/``, or the user's), so no key is in the stack file.
"""

from __future__ import annotations

import hashlib
from typing import Any

from openclaw_compose.core.contract import hardening, literal
from openclaw_compose.core.front import FRONT_CONFIG, FRONT_MOUNT, FrontLayout
from openclaw_compose.core.ports import Footprint, PortPlan
from openclaw_compose.core.sidecars import DOCKER_DNS
from openclaw_compose.core.spec import Spec

LISTEN_PORT = 8443
"""Where HAProxy listens in its container: above 1024, so it needs no capability to bind."""
TLS_FILE = "front-tls.pem"
"""The certificate and its key, one PEM, in ``/run/secrets``."""


FRONT_NETWORK = "front-net"
"""The front's own overlay network, when it serves an ``egress: none`` profile: a task on
internal networks only gets no ``docker_gwbridge``, and then no published port."""


def network(profile: str) -> str:
    """The profile's own overlay network in the stack."""
    return f"{profile}-net"


def layout(spec: Spec, footprints: tuple[Footprint, ...]) -> FrontLayout:
    front = spec.front
    assert front is not None
    return FrontLayout(
        bind=f":{LISTEN_PORT}",
        certificate=None if front.tls == "none" else f"/run/secrets/{TLS_FILE}",
        servers={
            fp.profile: f"tasks.{fp.profile}:{fp.front_relay}" for fp in footprints if fp.fronted
        },
        resolver=DOCKER_DNS,
        switch_user=False,
    )


def config_name(project: str, config: str) -> str:
    """Swarm configs cannot change: the HAProxy config is named after its content."""
    return f"{project}_front-{hashlib.sha256(config.encode()).hexdigest()[:12]}"


def tls_secret(project: str) -> str:
    return f"{project}_front-tls"


def stack_objects(
    spec: Spec, plan: PortPlan, config: str, uid: str, mode: int
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The front's service (but its ``deploy:``, the stack's way), its config and its secret
    (``uid`` and ``mode`` of the secret's file: the gateway image's user reads it)."""
    front = spec.front
    assert front is not None
    served = [fp.profile for fp in plan.footprints if fp.fronted]
    first = next(iter(spec.profiles))
    service: dict[str, Any] = {
        "image": literal(spec.profiles[first].image_ref(spec)),
        "entrypoint": ["haproxy", "-W", "-db", "-f", f"{FRONT_MOUNT}/haproxy.cfg"],
        "ports": [{"target": LISTEN_PORT, "published": front.port, "mode": "host"}],
        "networks": [network(profile) for profile in served]
        + [FRONT_NETWORK] * any(spec.profiles[p].egress == "none" for p in served),
        "configs": [{"source": "front-config", "target": f"{FRONT_MOUNT}/haproxy.cfg"}],
        **hardening(),
        "read_only": True,
    }
    name = config_name(spec.project, config)
    configs = {"front-config": {"name": name, "file": f"./{FRONT_CONFIG}"}}
    secrets: dict[str, Any] = {}
    if front.tls != "none":
        service["secrets"] = [
            {"source": "front-tls", "target": TLS_FILE, "uid": uid, "gid": uid, "mode": mode}
        ]
        secrets["front-tls"] = {"name": tls_secret(spec.project), "external": True}
    return service, configs, secrets
