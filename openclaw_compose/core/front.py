"""The HTTPS front (``front:`` in the profiles file): pure pieces shared by the targets.

The front is Debian's HAProxy, run from the local base image every build makes (no image of its
own to build or pull). It terminates TLS and sends each request whose ``Host`` is a profile's
``hostname`` to that gateway's base port, and nothing else: browser control (base+2) and CDP
are never a backend, and a request for any other name gets 421. Its configuration holds no
secret; the gateways' own token auth stays on behind it.

Each gateway behind the front gets, in its seed config, the front's origin in
``gateway.controlUi.allowedOrigins`` and the front's source address in
``gateway.trustedProxies``, so that it reads the real client from ``X-Forwarded-For`` (which
the front always replaces): a remote browser is then never taken for a local one (no silent
device pairing, per upstream's docs).
"""

from __future__ import annotations

import hashlib
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from openclaw_compose.core.ports import Footprint
from openclaw_compose.core.spec import DEFAULT_FRONT_PORT, FrontSpec, Spec

FRONT_SERVICE = "front"
FRONT_IMAGE = "openclaw-compose/base:bookworm"
"""The local base image of every gateway image (images/build.sh makes it): HAProxy 2.6."""
FRONT_DIR = "front"
FRONT_CONFIG = f"{FRONT_DIR}/haproxy.cfg"
FRONT_MOUNT = "/etc/openclaw-compose/front"
"""Where the project's ``front/`` folder is mounted (read-only) in the front's container."""
USER_TLS_MOUNT = "/run/openclaw-compose/tls"
"""Where a user's certificate and key are mounted (read-only)."""
TRUSTED_PROXIES = ("127.0.0.1", "::1")
"""The gateways see the front on loopback: with ``network: host`` it connects to their base
ports there; on a bridge network to B+1 published on the host's loopback, which the image's
relay carries to 127.0.0.1:B in the container (``OPENCLAW_COMPOSE_FRONT_RELAY``). A direct
connection to a published base port comes from the bridge's address instead, so a client that
bypasses the front is never taken for the front."""
FRONT_RELAY_ADDRESS = "127.0.0.1"
"""Where B+1 is published: only the host itself (the front, on the host's network) reaches it;
whatever reaches it is seen by the gateway as a local client, so it must never be published on
another address."""
FRONT_DIGEST_VARIABLE = "OPENCLAW_FRONT_DIGEST"
"""``.env``: a digest of the front's files; a changed file changes the front's service config,
so ``up`` recreates the front (a file mounted into a container is read when it starts)."""
FRONT_DIGEST_LABEL = "io.openclaw-compose.front-digest"
FRONT_LIMITS = {"cpus": "0.50", "memory": "256M", "pids": 256}
"""A proxy's share on both targets: whatever it is sent, it cannot take the gateways' CPU or
memory."""
TIMEOUT_SERVER = "300s"
"""One chat turn through ``/v1/chat/completions`` answers only when the model has finished."""


def hostnames(spec: Spec) -> dict[str, str]:
    """Profile -> hostname of the profiles the front serves (none without a front)."""
    if spec.front is None:
        return {}
    return {
        name: profile.hostname
        for name, profile in spec.profiles.items()
        if profile.hostname is not None
    }


def origin(front: FrontSpec, hostname: str) -> str:
    """What a browser sends as ``Origin`` for pages the front serves under ``hostname``."""
    scheme = "http" if front.tls == "none" else "https"
    default = 80 if front.tls == "none" else DEFAULT_FRONT_PORT
    return f"{scheme}://{hostname}" + ("" if front.port == default else f":{front.port}")


def front_url(spec: Spec, profile: str) -> str | None:
    """Where the front serves ``profile``'s gateway (None: it does not)."""
    name = hostnames(spec).get(profile)
    return origin(spec.front, name) if spec.front is not None and name is not None else None


def front_urls(spec: Spec) -> dict[str, str]:
    """Profile -> where the front serves its gateway, for every profile it serves."""
    return {profile: url for profile in spec.profiles if (url := front_url(spec, profile))}


def seed_additions(spec: Spec, profile: str, base: int) -> dict[str, Any]:
    """What the profile's seed config needs behind the front: its origin (and the gateway's
    own loopback ones, which it no longer adds itself once the list is set) and the front as
    a trusted proxy; nothing when the front does not serve it."""
    url = front_url(spec, profile)
    if url is None:
        return {}
    origins = [url, f"http://127.0.0.1:{base}", f"http://localhost:{base}"]
    return {
        "gateway": {
            "controlUi": {"allowedOrigins": origins},
            "trustedProxies": list(TRUSTED_PROXIES),
        }
    }


def merge_lists(ours: Mapping[str, Any], theirs: Mapping[str, Any]) -> dict[str, Any]:
    """``ours`` with the user's lists under the same keys joined to ours (the user's first),
    so that a fragment's own allowed origins or proxies add to the front's."""
    gateway = theirs.get("gateway")
    merged = {key: dict(value) for key, value in ours.items()}
    if not isinstance(gateway, Mapping) or "gateway" not in merged:
        return merged
    mine = merged["gateway"]
    user_ui = gateway.get("controlUi")
    if isinstance(user_ui, Mapping) and isinstance(user_ui.get("allowedOrigins"), list):
        extra = mine["controlUi"]["allowedOrigins"]
        mine["controlUi"] = {"allowedOrigins": _union(user_ui["allowedOrigins"], extra)}
    if isinstance(gateway.get("trustedProxies"), list):
        mine["trustedProxies"] = _union(gateway["trustedProxies"], mine["trustedProxies"])
    return merged


def _union(first: list[Any], second: list[Any]) -> list[Any]:
    return first + [item for item in second if item not in first]


def upstream_address(spec: Spec) -> str:
    """Where the front reaches the gateways' published base ports (compose)."""
    address = spec.publish_address
    if address.is_unspecified:
        return "[::1]" if address.version == 6 else "127.0.0.1"
    return f"[{address}]" if address.version == 6 else str(address)


@dataclass(frozen=True)
class FrontLayout:
    """What a target decides about its front's HAProxy: where it listens, the certificate it
    loads, where it reaches each served gateway."""

    bind: str
    """HAProxy's ``bind`` address and port."""
    certificate: str | None
    """The PEM it loads (its key in it or next to it as ``<cert>.key``); None: no TLS."""
    servers: Mapping[str, str]
    """Profile -> ``HOST:PORT`` of its gateway, for every profile the front serves."""
    resolver: str | None = None
    """A DNS server for the servers' names, asked while it runs (a name that does not resolve
    yet leaves its server down, not the front); None: the servers are addresses."""
    switch_user: bool = True
    """Started as root: drop to the ``haproxy`` user once the port is bound."""


def haproxy_config(spec: Spec, layout: FrontLayout) -> str:
    """``front/haproxy.cfg``: one backend per served profile."""
    names = hostnames(spec)
    cert = layout.certificate
    tls = f" ssl crt {cert} alpn http/1.1" if cert else ""
    user = ["    user haproxy", "    group haproxy"] if layout.switch_user else []
    lines = [
        "# Generated by openclaw-compose: no token or secret is in this file.",
        "global",
        "    log stdout format raw daemon",
        *user,
        "    ssl-default-bind-options ssl-min-ver TLSv1.2",
        "",
        "defaults",
        "    mode http",
        "    log global",
        "    option httplog",
        "    option forwardfor",
        "    timeout connect 5s",
        "    timeout client 60s",
        f"    timeout server {TIMEOUT_SERVER}",
        "    timeout http-request 10s",
        "    timeout tunnel 1h",
        "",
    ]
    resolve = ""
    if layout.resolver is not None:
        lines += [
            "resolvers names",
            f"    nameserver dns {layout.resolver}",
            "    hold valid 10s",
            "",
        ]
        resolve = " resolvers names resolve-prefer ipv4 init-addr none"
    lines += [
        "frontend openclaw",
        f"    bind {layout.bind}{tls}",
        # What a client says about where it comes from is never passed on.
        *(
            f"    http-request del-header {header}"
            for header in ("forwarded", "x-forwarded-for", "x-forwarded-host", "x-real-ip")
        ),
        f"    http-request set-header x-forwarded-proto {'http' if cert is None else 'https'}",
        "    http-request set-var(txn.host) req.hdr(host),field(1,:),lower",
        *(
            f"    use_backend {_backend(p)} if {{ var(txn.host) -m str {name} }}"
            for p, name in names.items()
        ),
        "    default_backend unknown-name",
        "",
        "backend unknown-name",
        '    http-request return status 421 content-type text/plain string "no gateway is '
        'served under this name"',
    ]
    for profile in names:
        lines += [
            "",
            f"backend {_backend(profile)}",
            f"    server {profile} {layout.servers[profile]}{resolve}",
        ]
    return "\n".join(lines) + "\n"


def _backend(profile: str) -> str:
    return f"gateway-{profile}"


def files_digest(files: Mapping[str, bytes]) -> str:
    """A digest of the front's files, in name order (see :data:`FRONT_DIGEST_VARIABLE`)."""
    whole = hashlib.sha256()
    for name in sorted(files):
        whole.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return whole.hexdigest()


def tunnel_command(spec: Spec, fp: Footprint, host: str, local_port: int | None = None) -> str:
    """The ``ssh -L`` command that brings ``fp``'s base port (only) to the user's machine."""
    remote = upstream_address(spec)
    local = local_port or fp.base
    return shlex.join(["ssh", "-N", "-L", f"{local}:{remote}:{fp.base}", host])
