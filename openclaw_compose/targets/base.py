"""What a target is: how a checked spec becomes files (render, extra checks) and how those files
run on an engine (the runtime hooks). :mod:`openclaw_compose.runtime.pipeline` owns the order of
the steps; a target supplies only what differs.

A third target (Kubernetes manifests, say) is a folder ``targets/<name>/`` with the same inner
shape (``render.py``, ``checks.py``, ``runtime.py``, and ``TARGET = Target(...)`` in its
``__init__.py``), added to the registry in :mod:`openclaw_compose.targets`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from openclaw_compose.core.checks import Problem
from openclaw_compose.core.contract import RenderedProject
from openclaw_compose.core.loading import LoadedSpec
from openclaw_compose.core.ports import PortPlan
from openclaw_compose.core.spec import Spec

if TYPE_CHECKING:
    from openclaw_compose.engine import Engine

ProgressFn = Callable[[str], None]


@dataclass(frozen=True)
class GatewayStatus:
    """One profile's gateway as ``status`` shows it, whatever runs it."""

    profile: str
    url: str
    container: str | None
    state: str
    health: str | None
    probes: Mapping[str, int | None]
    ports: Mapping[str, Any]
    token: str
    """Where the token is: the ``.env`` variable or the swarm secret, never the token itself."""
    node: str | None = None
    """Swarm: the hostname of the node its task runs on."""
    version: str | None = None
    """The OpenClaw version of the container's image (its ``openclaw.version`` label)."""
    address: str | None = None
    """Swarm: that node's address."""

    def to_json(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "node": self.node,
            "version": self.version,
            "address": self.address,
            "url": self.url,
            "container": self.container,
            "state": self.state,
            "health": self.health,
            "probes": dict(self.probes),
            "ports": dict(self.ports),
            "token": self.token,
        }


@dataclass(frozen=True)
class Preflight:
    """What a runtime found before anything is written or started: its problems (a taken port,
    a node that does not exist), and where each profile's gateway will answer from here."""

    problems: tuple[Problem, ...] = ()
    urls: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Distribution:
    """What a runtime found once the images are where the gateways will run, before anything
    is written or started: problems on the nodes themselves (a port taken there, an image the
    node cannot run), and the references of the images to run instead of the spec's (a swarm
    with a registry: each pinned by digest)."""

    problems: tuple[Problem, ...] = ()
    images: Mapping[str, str] = field(default_factory=dict)


class Runtime(Protocol):
    """A target's hooks on one engine."""

    def preflight(self, spec: Spec, plan: PortPlan) -> Preflight:
        """The target's engine-side checks (ports on the nodes that publish them, placement,
        images it cannot run); writes and starts nothing."""
        ...

    def distribute(self, spec: Spec, plan: PortPlan, progress: ProgressFn) -> Distribution:
        """Get the images to where the gateways will run and check there that they can: the
        last step before anything is written (``deploy`` only; ``doctor`` stops before it)."""
        ...

    def start(self, spec: Spec, directory: Path, progress: ProgressFn) -> None:
        """Start (or update) every gateway of the written project, without waiting for them."""
        ...

    def settled(self, spec: Spec) -> bool:
        """True once no gateway of an earlier start can still answer a probe in a new one's
        place (swarm: replaced tasks gone); the wait for readiness starts then."""
        ...

    def gateways(self, spec: Spec, plan: PortPlan) -> list[GatewayStatus]:
        """Every profile's state, health and probes."""
        ...

    def explain(self, spec: Spec, profiles: Sequence[str]) -> str:
        """Why ``profiles`` are not ready: their state and last log lines."""
        ...

    def stop(self, spec: Spec, directory: Path, *, volumes: bool, progress: ProgressFn) -> str:
        """Stop and remove the gateways (volumes too with ``volumes``); what was done."""
        ...


@dataclass(frozen=True)
class Target:
    """A kind of generated project: its document, its checks, its runtime."""

    name: str
    document: str
    """The file it writes next to ``seeds/`` and ``.env`` (``compose.yaml``, ``stack.yaml``)."""
    summary: str
    """One line for ``--help``."""
    render: Callable[[LoadedSpec, PortPlan, Path], RenderedProject]
    """The files of the project (pure: no I/O)."""
    checks: Callable[[Spec, PortPlan], Iterator[Problem]]
    """What this target adds to the core checks."""
    runtime: Callable[[Engine], Runtime]
    """Its hooks on an engine (imported on first use: only commands that run need Docker)."""
    local: bool = False
    """Its gateways run on the host that runs the command, next to that host's native
    gateways, which the checks then count (compose: yes; swarm: they run on its nodes)."""
