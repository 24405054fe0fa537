"""All access to Docker, split by what it touches: :mod:`.containers` (images, containers,
volumes, networks of one engine), :mod:`.compose` (the Compose v2 CLI), :mod:`.swarm` (nodes,
services, tasks, secrets, configs, ``docker stack``); :mod:`.client` holds the connection and
maps every failure to a typed error. The package is typed against the small protocols of
:mod:`.protocols` (:class:`Engine`); :class:`DockerEngine` is the real one.

No other module imports ``docker`` or runs the ``docker`` CLI (ruff's banned-api enforces the
import rule). Imported only by commands that need Docker, so the others do not pay for the SDK.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from openclaw_compose.engine.client import Client
from openclaw_compose.engine.compose import ComposeCLI
from openclaw_compose.engine.containers import Containers
from openclaw_compose.engine.protocols import Engine
from openclaw_compose.engine.swarm import Swarm


@dataclass
class DockerEngine:
    """One Docker engine, by what it touches; each part connects on first use."""

    client: Client = field(default_factory=Client)
    containers: Containers = field(init=False)
    compose: ComposeCLI = field(init=False, default_factory=ComposeCLI)
    swarm: Swarm = field(init=False)

    def __post_init__(self) -> None:
        self.containers = Containers(self.client)
        self.swarm = Swarm(self.client)

    @property
    def local(self) -> bool:
        return self.client.local


__all__ = ["DockerEngine", "Engine"]
