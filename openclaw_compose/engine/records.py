"""What the engine reports, as plain records: containers, ports, swarm nodes, services, tasks
and one-off jobs. No SDK here: the protocols (:mod:`.protocols`), the fakes of the tests and the
rest of the package use these without importing ``docker``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class PublishedPort:
    """A host port that a container publishes (or will, once started)."""

    host_ip: str
    port: int
    container: str
    project: str | None
    service: str | None
    status: str
    stack: str | None = None


@dataclass(frozen=True, slots=True)
class ContainerState:
    name: str
    service: str
    status: str  # created, running, restarting, exited, ...
    health: str | None  # starting, healthy, unhealthy, or None without a healthcheck
    restarts: int
    pid: int
    labels: Mapping[str, str] = field(default_factory=dict)
    """The container's labels (its image's included)."""
    exit_code: int = 0
    started_at: str = ""


@dataclass(frozen=True, slots=True)
class SwarmState:
    state: str  # inactive, pending, active, error, locked
    node_id: str
    manager: bool


@dataclass(frozen=True, slots=True)
class SwarmNode:
    id: str
    hostname: str
    role: str  # manager, worker
    labels: Mapping[str, str]
    state: str  # ready, down, unknown, disconnected
    availability: str  # active, pause, drain
    address: str


@dataclass(frozen=True, slots=True)
class TaskState:
    """One task (one attempt to run a service's container) of a stack."""

    service: str
    state: str  # new, pending, assigned, ..., starting, running, shutdown, failed, rejected, ...
    desired: str  # running, shutdown, ...
    error: str | None
    node_id: str
    container: str | None = None
    """Its container's name (``SERVICE.SLOT.TASK``) once it has one, on whichever node."""
    image: str = ""
    """The image its spec runs (as the stack file names it)."""
    exit_code: int | None = None
    """How its container ended, once it has."""


@dataclass(frozen=True, slots=True)
class JobMount:
    """A named volume or (an absolute ``source``) a host directory of the job's node."""

    source: str
    target: str
    labels: Mapping[str, str] = field(default_factory=dict)
    """Of a volume the job creates (it does not exist on the node yet)."""


@dataclass(frozen=True, slots=True)
class Job:
    """A one-off task: ``command`` in ``image`` on node ``node_id``, in that node's own network
    namespace (the ``host`` network), as ``user`` (default: the image's), with ``mounts`` and
    ``secrets`` (swarm secret name -> file name under ``/run/secrets``, readable by ``user``)."""

    name: str
    image: str
    command: Sequence[str]
    node_id: str
    labels: Mapping[str, str]
    mounts: Sequence[JobMount] = ()
    user: str | None = None
    secrets: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class JobResult:
    """How a one-off task ended (``complete``, ``failed``, ``rejected``, ... or ``timeout``),
    its error and what it printed."""

    state: str
    error: str | None
    output: str


@dataclass(frozen=True, slots=True)
class ServicePort:
    """A port a swarm service publishes: ``ingress`` (the routing mesh: every node) or
    ``host`` (the nodes its tasks run on)."""

    port: int
    mode: str
    service: str
    stack: str | None


@dataclass(frozen=True, slots=True)
class ServiceState:
    """A swarm service as the manager sees it: what it runs and how its last update went."""

    id: str
    name: str
    image: str
    """The image its task template runs (as the stack file names it, or pinned by digest)."""
    update_state: str | None = None
    """``UpdateStatus.State``: updating, completed, rollback_started, rollback_completed, ...;
    None when it was never updated."""
    update_message: str | None = None
