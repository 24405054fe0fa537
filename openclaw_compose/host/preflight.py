"""Host preflight: is every port the project will publish free on this host?

Two sources, both checked before anything is written or started: a bind probe on the exact
publish address (finds any process, and names it from /proc), and the port bindings of every
container, running or stopped (a stopped container's ports are free now but taken again when it
starts). With ``network: host`` a gateway binds its whole footprint on the host, so all of it is
probed. Profiles that already have a container in the project hold their own ports: skipped by
the bind probe; for a running one, any other process listening inside its footprint is named
(:func:`foreign_listeners`).

A swarm stack publishes on every address (``0.0.0.0``) of the node its profile is placed on;
this host can only be probed for the profiles placed on it (:func:`taken_stack_ports`). There,
ports of the routing mesh (other stacks' ``ingress`` ports, taken on every node) count too.
"""

from __future__ import annotations

import errno
import os
import socket
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import suppress
from ipaddress import ip_address
from pathlib import Path

from openclaw_compose.core.checks import CheckCode, Problem
from openclaw_compose.core.front import FRONT_SERVICE
from openclaw_compose.core.ports import Footprint, PortPlan, PortRange, format_range
from openclaw_compose.core.spec import Spec
from openclaw_compose.engine import Engine
from openclaw_compose.engine.records import ContainerState, PublishedPort
from openclaw_compose.host.system import listening_sockets, time_wait_ports

WILDCARDS = {"0.0.0.0", "::"}
SWARM_ADDRESS = "0.0.0.0"
"""Where swarm publishes a port (``mode: host``): every address of the node."""


def planned_ports(
    plan: PortPlan, ports_of: Callable[[Footprint], list[PortRange]], skip: Collection[str]
) -> dict[int, str]:
    """Every host port the project binds, with its profile (except the ``skip`` profiles)."""
    return {
        port: fp.profile
        for fp in plan.footprints
        if fp.profile not in skip
        for low, high in ports_of(fp)
        for port in range(low, high + 1)
    }


def taken_ports(spec: Spec, plan: PortPlan, engine: Engine) -> list[Problem]:
    """Compose: ports the project needs that something else holds; its own containers' are
    skipped."""
    address = str(spec.publish_address)
    if not address_available(address):
        return [_unavailable(spec, plan, address)]
    containers = engine.containers.project_containers(spec.project)
    running = set(containers)
    planned = planned_ports(plan, lambda fp: fp.host_ports(spec.network), skip=running)
    taken = _taken(plan, planned, address, engine, lambda p: p.project == spec.project, stack=None)
    return taken + front_port_taken(spec, running) + foreign_listeners(spec, plan, containers)


def front_port_taken(spec: Spec, running: Collection[str], *, swarm: bool = False) -> list[Problem]:
    """The front's port, free on its address unless the project's own front holds it; with
    ``swarm``, free on every address (swarm publishes it there, on the manager)."""
    front = spec.front
    if front is None or FRONT_SERVICE in running:
        return []
    address = SWARM_ADDRESS if swarm else str(front.address)
    if not swarm and not address_available(address):
        return [
            Problem(
                CheckCode.FRONT_ADDRESS_UNAVAILABLE,
                "error",
                (),
                f"front.address {address} is not an address of this host; use one of its "
                "addresses (see 'ip addr'), 0.0.0.0 or 127.0.0.1",
            )
        ]
    if can_bind(address, front.port):
        return []
    holder = _process_holders([front.port])[front.port]
    return [
        Problem(
            CheckCode.PORT_IN_USE,
            "error",
            (),
            f"the front's port {address}:{front.port} is already taken by {holder}; stop it, "
            "or set another front.port",
            ports=(front.port,),
        )
    ]


DOCKER_PUBLISHERS = frozenset({"docker-proxy", "dockerd"})
"""The processes that hold a container's published ports on the host: Docker's userland proxy,
or, with it off, the daemon itself (it keeps each published port bound)."""


def foreign_listeners(
    spec: Spec, plan: PortPlan, containers: Mapping[str, ContainerState]
) -> list[Problem]:
    """Compose: processes of this host listening inside the footprint of a profile whose
    container runs, other than that container's own (its pid namespace) and Docker's port
    proxy: the gateway cannot open what they hold (a CDP port, say) once it needs it."""
    own = {
        name: namespace
        for name, c in containers.items()
        if c.status == "running" and (namespace := _pid_namespace(str(c.pid))) is not None
    }  # a container whose processes cannot be told from others' is not looked at
    everyone = planned_ports(plan, lambda fp: fp.host_ports(spec.network), skip=())
    planned = {port: profile for port, profile in everyone.items() if profile in own}
    if not planned:
        return []
    inodes = {inode: port for inode, port in listening_sockets().items() if port in planned}
    holders: dict[tuple[str, str], list[int]] = defaultdict(list)
    for port, pid in _socket_pids(inodes).items():
        namespace, command = _pid_namespace(pid), _command_name(pid)
        if namespace in (None, own[planned[port]]) or command in DOCKER_PUBLISHERS:
            continue
        holders[(planned[port], f"process {pid} ({command})")].append(port)
    nodes = {fp.profile: fp.node for fp in plan.footprints}
    return [
        port_problem(profile, holder, sorted(ports), str(spec.publish_address), nodes[profile])
        for (profile, holder), ports in sorted(holders.items(), key=lambda item: item[1][0])
    ]


def _pid_namespace(pid: str) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return None


def taken_stack_ports(
    spec: Spec, plan: PortPlan, engine: Engine, here: Collection[str]
) -> list[Problem]:
    """Swarm: the same for the profiles placed on this node (``here``); the stack's own
    running tasks hold their ports."""
    running = set(engine.containers.stack_containers(spec.project))
    browser = spec.swarm.publish_browser_ports
    planned = planned_ports(
        plan,
        lambda fp: fp.published(browser=browser) if fp.profile in here else [],
        skip=running,
    )
    ours = spec.project
    return _taken(plan, planned, SWARM_ADDRESS, engine, lambda p: p.stack == ours, stack=ours)


def _taken(
    plan: PortPlan,
    planned: dict[int, str],
    address: str,
    engine: Engine,
    ours_if: Callable[[PublishedPort], bool],
    *,
    stack: str | None,
) -> list[Problem]:
    """``planned`` ports held by containers (not ``ours_if``), other stacks' routing mesh, or
    processes; ``stack``: our own stack, whose services' ports are ours."""
    holders: dict[tuple[str, str], list[int]] = defaultdict(list)
    ours: set[int] = set()
    for published in engine.containers.published_ports():
        if published.port not in planned or not _same_address(published.host_ip, address):
            continue
        if ours_if(published):
            ours.add(published.port)
        else:
            holders[(planned[published.port], _container_holder(published))].append(published.port)
    for service in engine.swarm.service_ports():
        if service.port not in planned:
            continue
        if stack is not None and service.stack == stack:
            # our own service's port: dockerd holds it for its task, also while swarm
            # replaces the task (a restore's restart) and no container shows it
            ours.add(service.port)
        elif service.mode == "ingress":
            holder = f"swarm service {service.service!r} (routing mesh: every node)"
            holders[(planned[service.port], holder)].append(service.port)
    held = ours | {port for ports in holders.values() for port in ports}
    busy = [port for port in planned if port not in held and not can_bind(address, port)]
    for port, holder in _process_holders(busy).items():
        holders[(planned[port], holder)].append(port)
    nodes = {fp.profile: fp.node for fp in plan.footprints}
    return [
        port_problem(profile, holder, sorted(set(ports)), address, nodes[profile])
        for (profile, holder), ports in sorted(holders.items(), key=lambda item: item[1][0])
    ]


def _same_address(bound: str, planned: str) -> bool:
    return bound in WILDCARDS or planned in WILDCARDS or bound == planned


def _container_holder(published: PublishedPort) -> str:
    project = f" of compose project {published.project!r}" if published.project else ""
    if published.stack:
        project = f" of swarm stack {published.stack!r}"
    return f"container {published.container!r} ({published.status}){project}"


def address_available(address: str) -> bool:
    """Whether this host has ``address`` (a wildcard always): binding port 0 on it works."""
    family = socket.AF_INET6 if ip_address(address).version == 6 else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((address, 0))
        except OSError as exc:
            if exc.errno == errno.EADDRNOTAVAIL:
                return False
            raise
    return True


def _unavailable(spec: Spec, plan: PortPlan, address: str) -> Problem:
    return Problem(
        CheckCode.PUBLISH_ADDRESS_UNAVAILABLE,
        "error",
        tuple(spec.profiles),
        f"publish_address {address} is not an address of this host, so no port can be "
        "published on it; use one of this host's addresses (see 'ip addr'), or 127.0.0.1",
        nodes=tuple(plan.by_node()),
    )


def can_bind(address: str, port: int) -> bool:
    family = socket.AF_INET6 if ip_address(address).version == 6 else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((address, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


TIME_WAIT_HOLDER = (
    "recent connections that used it as their local port, now in TCP's TIME_WAIT (free again "
    "within 60 s: wait and retry, or use base ports below 32768, outside the kernel's range "
    "for such ports)"
)


def port_problem(
    profile: str, holder: str, ports: list[int], address: str, node: str | None
) -> Problem:
    shown = ", ".join(format_range(low, high) for low, high in _runs(ports))
    return Problem(
        CheckCode.PORT_IN_USE,
        "error",
        (profile,),
        f"profile {profile!r}: {address} {'port' if len(ports) == 1 else 'ports'} {shown} "
        f"already taken by {holder}; stop it, "
        f"or move {profile!r} to a free base port",
        ports=tuple(ports),
        nodes=(node,),
    )


def _runs(ports: list[int]) -> Iterator[tuple[int, int]]:
    start = previous = ports[0]
    for port in ports[1:]:
        if port != previous + 1:
            yield start, previous
            start = port
        previous = port
    yield start, previous


def _process_holders(ports: Iterable[int]) -> dict[int, str]:
    """Name the process listening on each busy port, from /proc (best effort)."""
    wanted = set(ports)
    if not wanted:
        return {}
    inodes = {inode: port for inode, port in listening_sockets().items() if port in wanted}
    owners = _socket_owners(inodes)
    waiting = time_wait_ports() - set(owners)
    return {
        port: owners.get(port, TIME_WAIT_HOLDER if port in waiting else "another process")
        for port in sorted(wanted)
    }


def _socket_owners(inodes: dict[str, int]) -> dict[int, str]:
    return {
        port: f"process {pid} ({_command_name(pid)})" for port, pid in _socket_pids(inodes).items()
    }


def _socket_pids(inodes: dict[str, int]) -> dict[int, str]:
    """Port -> the first process found holding its socket."""
    pids: dict[int, str] = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        for link in _fd_links(pid):
            if link in inodes:
                pids.setdefault(inodes[link], pid)
    return pids


def _fd_links(pid: str) -> Iterator[str]:
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return
    for fd in fds:
        with suppress(OSError):  # closed meanwhile, or not ours to read
            yield os.readlink(f"/proc/{pid}/fd/{fd}")


def _command_name(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "?"
