"""What ``doctor`` audits of a running gateway's container, as ``openclaw fleet doctor`` does
(pure: ``docker inspect`` data in, findings out).

What the profiles file renders for a gateway (:class:`Expected`, from the same contract the
targets render from) is compared with what runs: hardening, limits, publishing, the log and
restart settings and the tmpfs mounts; so a project started by hand from an edited
``compose.yaml`` shows its drift. Besides: the networks the container is on and who else is on
them, whether they let traffic out, the token (a mounted secret, never in the configured
environment), and the state directories (owned by uid 1000, not writable by others).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from openclaw_compose.core.contract import (
    CAP_DROP,
    CONTAINER_UID,
    HOST_SERVICES_VARIABLE,
    LOGGING,
    MOUNTS,
    NO_NEW_PRIVILEGES,
    TMPFS,
    TOKEN_NAME,
)
from openclaw_compose.core.resources import Limits, format_size, size_bytes

TOKEN_FILE = f"/run/secrets/{TOKEN_NAME}"
RESTART = "unless-stopped"
"""The Compose restart policy (swarm restarts through its service's restart_policy)."""
STAT_PATHS = (*MOUNTS.values(), TOKEN_FILE)
"""What :func:`stat_command` asks about: the three state directories and the token's file."""


@dataclass(frozen=True)
class Finding:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Expected:
    """A gateway's container as the profiles file renders it for one target."""

    profile: str
    limits: Limits
    swarm: bool
    """A stack cannot say no-new-privileges or a swap limit, and it publishes on every
    address."""
    ports: frozenset[tuple[str, int]] = frozenset()
    """(host address, port) of every port a Compose service publishes."""
    host_services: frozenset[int] = frozenset()
    """The ports of the host services the profile is granted (``host_services``)."""
    neighbours: frozenset[str] = frozenset()
    """How the names of the containers that may share its networks begin: its port carrier,
    the HTTPS front (each target names its containers its own way)."""


def stat_command() -> list[str]:
    """Run in the container: one line ``PATH UID MODE`` per :data:`STAT_PATHS` entry."""
    return ["stat", "-L", "-c", "%n %u %a", *STAT_PATHS]


def audit(
    want: Expected,
    attrs: Mapping[str, Any],
    networks: Mapping[str, Mapping[str, Any]],
    stat: str,
) -> list[Finding]:
    """The findings for one running container: ``attrs`` its ``docker inspect``, ``networks``
    the ``docker network inspect`` of each network it is on, ``stat`` the output of
    :func:`stat_command` in it."""
    name = want.profile
    return [
        Finding(f"{name} hardening", *_hardening(want, attrs)),
        Finding(f"{name} limits", *_limits(want, attrs)),
        Finding(f"{name} publishing", *_publishing(want, attrs)),
        Finding(f"{name} runtime config", *_runtime(want, attrs)),
        Finding(f"{name} network", *_network(want, attrs, networks)),
        Finding(f"{name} token", *_token(attrs, stat)),
        Finding(f"{name} state", *_state(stat)),
    ]


def _verdict(wrong: Sequence[str], good: str) -> tuple[bool, str]:
    if wrong:
        return False, "; ".join(wrong) + " (the profiles file renders otherwise: drift)"
    return True, good


def _hardening(want: Expected, attrs: Mapping[str, Any]) -> tuple[bool, str]:
    host, config = attrs.get("HostConfig") or {}, attrs.get("Config") or {}
    wrong = []
    dropped = sorted(host.get("CapDrop") or [])
    if [cap.upper() for cap in dropped] != list(CAP_DROP):
        wrong.append(f"cap_drop {dropped} instead of {list(CAP_DROP)}")
    if host.get("CapAdd"):
        wrong.append(f"cap_add {sorted(host['CapAdd'])}")
    options = host.get("SecurityOpt") or []
    nnp = any(opt.split(":")[0].split("=")[0] == "no-new-privileges" for opt in options) and (
        not any(opt.endswith(("=false", ":false")) for opt in options)
    )
    if not want.swarm and not nnp:
        wrong.append(f"no {NO_NEW_PRIVILEGES} in security_opt")
    if not host.get("ReadonlyRootfs"):
        wrong.append("the root file system is writable (read_only is off)")
    if host.get("Privileged"):
        wrong.append("privileged")
    user = str(config.get("User") or "root")
    if user.split(":", maxsplit=1)[0] not in (str(CONTAINER_UID), "node"):
        wrong.append(f"runs as user {user!r}, not {CONTAINER_UID}")
    extra = "no-new-privileges cannot be said in a stack" if want.swarm else "no-new-privileges"
    return _verdict(wrong, f"cap_drop ALL, read-only root, {extra}, user {user}")


def _limits(want: Expected, attrs: Mapping[str, Any]) -> tuple[bool, str]:
    host = attrs.get("HostConfig") or {}
    memory, pids = int(host.get("Memory") or 0), int(host.get("PidsLimit") or 0)
    cpus = int(host.get("NanoCpus") or 0) / 1e9
    limit = want.limits
    wrong = []
    if memory != limit.memory:
        wrong.append(f"memory {_size(memory)} instead of {limit.memory_text()}")
    if abs(cpus - limit.cpus) > 1e-6:
        wrong.append(f"cpus {cpus:g} instead of {limit.cpus_text()}")
    if pids != limit.pids:
        wrong.append(f"pids {pids or 'unlimited'} instead of {limit.pids}")
    swap = int(host.get("MemorySwap") or 0)
    if not want.swarm and swap != memory:
        wrong.append(f"memory+swap {_size(swap)} instead of {limit.memory_text()}")
    return _verdict(wrong, f"memory {_size(memory)}, cpus {cpus:g}, pids {pids}")


def _size(size: int) -> str:
    return format_size(size) if size > 0 else "unlimited"


def _publishing(want: Expected, attrs: Mapping[str, Any]) -> tuple[bool, str]:
    if want.swarm:
        return True, "swarm publishes on every address of the node (see the check's warning)"
    bound = _bindings(attrs)
    wrong = []
    added = sorted(bound - want.ports, key=lambda b: b[1])
    missing = sorted(want.ports - bound, key=lambda b: b[1])
    if added:
        wrong.append("published beyond the file: " + _ports(added))
    if missing:
        wrong.append("not published: " + _ports(missing))
    not_loopback = sorted({address for address, _ in bound if not _loopback(address)})
    where = f"on {', '.join(not_loopback)}" if not_loopback else "on loopback only"
    if not bound:
        return _verdict(wrong, "no port published (host network: the gateway binds loopback)")
    return _verdict(wrong, f"{len(bound)} port(s) {where}")


def _bindings(attrs: Mapping[str, Any]) -> set[tuple[str, int]]:
    found = set()
    for bound in ((attrs.get("HostConfig") or {}).get("PortBindings") or {}).values():
        for binding in bound or []:
            low, _, high = str(binding.get("HostPort") or "").partition("-")
            if low:
                address = binding.get("HostIp") or "0.0.0.0"
                found |= {(address, port) for port in range(int(low), int(high or low) + 1)}
    return found


def _ports(bindings: Sequence[tuple[str, int]]) -> str:
    shown = [f"{address}:{port}" for address, port in bindings[:5]]
    more = f" and {len(bindings) - 5} more" if len(bindings) > 5 else ""
    return ", ".join(shown) + more


def _loopback(address: str) -> bool:
    return address.startswith("127.") or address == "::1"


def _runtime(want: Expected, attrs: Mapping[str, Any]) -> tuple[bool, str]:
    host = attrs.get("HostConfig") or {}
    wrong = []
    log = host.get("LogConfig") or {}
    if log.get("Type") != LOGGING["driver"] or (log.get("Config") or {}) != LOGGING["options"]:
        wrong.append(f"log {log.get('Type')} {log.get('Config') or {}} is not rotated as rendered")
    restart = (host.get("RestartPolicy") or {}).get("Name") or ""
    if not want.swarm and restart != RESTART:
        wrong.append(f"restart {restart or 'no'} instead of {RESTART}")
    tmpfs = _tmpfs(host)
    if tmpfs != TMPFS:
        shown = {target: _size(size) for target, size in tmpfs.items()}
        wrong.append(f"tmpfs {shown} instead of { ({t: _size(s) for t, s in TMPFS.items()}) }")
    return _verdict(wrong, f"log rotated, restart {restart or 'by swarm'}, tmpfs as rendered")


def _tmpfs(host: Mapping[str, Any]) -> dict[str, int]:
    """Target -> size of the tmpfs mounts: Compose's ``tmpfs:`` (``HostConfig.Tmpfs``) and
    the mounts API's (swarm)."""
    found = {
        str(mount.get("Target")): int((mount.get("TmpfsOptions") or {}).get("SizeBytes") or 0)
        for mount in host.get("Mounts") or []
        if mount.get("Type") == "tmpfs"
    }
    for target, options in (host.get("Tmpfs") or {}).items():
        sizes = [o.removeprefix("size=") for o in str(options).split(",") if o.startswith("size=")]
        found[target] = size_bytes(sizes[0]) if sizes else 0
    return found


def _network(
    want: Expected, attrs: Mapping[str, Any], networks: Mapping[str, Mapping[str, Any]]
) -> tuple[bool, str]:
    mode = str((attrs.get("HostConfig") or {}).get("NetworkMode") or "")
    if mode == "host":
        return True, (
            "host network, egress open: every service on the host's loopback and every other "
            "profile's ports are reachable (what 'network: host' gives up)"
        )
    own = str(attrs.get("Id") or "")
    shared, shown = [], []
    for name in sorted(((attrs.get("NetworkSettings") or {}).get("Networks") or {}).keys()):
        network = networks.get(name) or {}
        others = sorted(
            str(member.get("Name") or cid)
            for cid, member in (network.get("Containers") or {}).items()
            if cid != own
            and not str(cid).startswith("lb-")  # swarm's load balancer
            and not str(member.get("Name") or "").startswith(tuple(want.neighbours))
        )
        shown.append(
            f"{name} ({'internal: no egress' if network.get('Internal') else 'egress open'})"
        )
        if others:
            shared.append(f"{name} is shared with {', '.join(others)}")
    if shared:
        return False, "not alone on its network: " + "; ".join(shared)
    granted = _granted(attrs)
    if granted != want.host_services:
        return _verdict(
            [f"host services on ports {_listed(granted)} instead of {_listed(want.host_services)}"],
            "",
        )
    detail = ", ".join(shown) if shown else f"network mode {mode or 'none'}"
    if granted:
        detail += f"; granted the host's 127.0.0.1 ports {_listed(granted)} only"
    return True, detail


def _granted(attrs: Mapping[str, Any]) -> frozenset[int]:
    """The host services' ports in the container's configured environment."""
    prefix = f"{HOST_SERVICES_VARIABLE}="
    for entry in (attrs.get("Config") or {}).get("Env") or []:
        if entry.startswith(prefix):
            return frozenset(int(p) for p in entry[len(prefix) :].split(",") if p.isdigit())
    return frozenset()


def _listed(ports: frozenset[int]) -> str:
    return ", ".join(map(str, sorted(ports))) or "none"


def _stat(stat: str) -> dict[str, tuple[int, int]]:
    found = {}
    for line in stat.splitlines():
        parts = line.rsplit(" ", 2)
        if len(parts) == 3 and parts[1].isdigit():
            found[parts[0]] = (int(parts[1]), int(parts[2], 8))
    return found


def _token(attrs: Mapping[str, Any], stat: str) -> tuple[bool, str]:
    env = (attrs.get("Config") or {}).get("Env") or []
    if any(entry.startswith(f"{TOKEN_NAME}=") for entry in env):
        return False, f"{TOKEN_NAME} is in the container's configured environment (docker inspect)"
    if TOKEN_FILE not in _stat(stat):
        return False, f"no token: {TOKEN_FILE} is not mounted"
    return True, f"mounted as {TOKEN_FILE}, not in the configured environment"


def _state(stat: str) -> tuple[bool, str]:
    found = _stat(stat)
    wrong = []
    for path in MOUNTS.values():
        if path not in found:
            wrong.append(f"{path} missing")
            continue
        uid, mode = found[path]
        if uid != CONTAINER_UID:
            wrong.append(f"{path} owned by uid {uid}, not {CONTAINER_UID}")
        if mode & 0o002:
            wrong.append(f"{path} is writable by everyone (mode {mode:o})")
    if wrong:
        return False, "; ".join(wrong)
    return True, f"state, config and workspace owned by uid {CONTAINER_UID}, not world-writable"
