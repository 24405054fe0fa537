"""An in-memory Docker engine for fast tests of the pipeline's logic (and of error paths a real
engine cannot be made to produce). It satisfies :class:`openclaw_compose.engine.Engine` and
records what was asked of it; a compose ``up`` makes the project's containers "running"."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from openclaw_compose.core.contract import (
    FRONT_RELAY_LABEL,
    FRONT_RELAY_VARIABLE,
    HOST_SERVICES_LABEL,
    HOST_SERVICES_VARIABLE,
    SECRETS_LABEL,
    SECRETS_VARIABLE,
)
from openclaw_compose.engine.records import (
    ContainerState,
    Job,
    JobResult,
    PublishedPort,
    ServicePort,
    ServiceState,
    SwarmNode,
    SwarmState,
    TaskState,
)
from openclaw_compose.errors import CommandFailed


@dataclass
class FakeContainers:
    images: dict[str, dict[str, str]] = field(default_factory=dict)
    containers: dict[str, dict[str, ContainerState]] = field(default_factory=dict)
    published: list[PublishedPort] = field(default_factory=list)
    log_text: str = "gateway log line\n"
    inspected: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: dict[tuple[str, str], bytes] = field(default_factory=dict)
    volume_set: dict[str, dict[str, str]] = field(default_factory=dict)
    """Volume name -> its labels."""

    def version(self) -> str:
        return "fake (API 1.41)"

    def image_labels(self, tag: str) -> dict[str, str] | None:
        return self.images.get(tag)

    def push(self, image: str, repository: str, tag: str) -> str:
        return "sha256:" + "0" * 64

    def published_ports(self) -> list[PublishedPort]:
        return list(self.published)

    def project_containers(self, project: str) -> dict[str, ContainerState]:
        return dict(self.containers.get(project, {}))

    def remove_leftovers(self, project: str) -> list[str]:
        return []

    def stack_containers(self, stack: str) -> dict[str, ContainerState]:
        return {}

    def inspect(self, container: str) -> dict[str, Any]:
        return dict(self.inspected.get(container, {}))

    def inspect_network(self, name: str) -> dict[str, Any]:
        return {"Name": name, "Containers": {}}

    def volumes(self, label: str) -> list[str]:
        key, _, value = label.partition("=")
        return [name for name, labels in self.volume_set.items() if labels.get(key) == value]

    def remove_volume(self, name: str) -> None:
        if self.volume_set.pop(name, None) is None:
            raise CommandFailed(f"fake: no volume {name}")

    def networks(self, label: str) -> list[str]:
        return []

    def logs(self, container: str, tail: int = 40) -> str:
        return self.log_text

    def run(self, image: str, environment: Mapping[str, str]) -> tuple[int, str]:
        return 0, ""

    def exec(self, container: str, command: Sequence[str]) -> tuple[int, str]:
        if command[0] == "cat":  # reading a file the test put there, as in a container
            data = self.files.get((container, command[-1]))
            return (0, data.decode()) if data is not None else (1, f"cat: {command[-1]}: missing")
        return 0, ""

    def run_once(
        self,
        image: str,
        command: Sequence[str],
        *,
        mounts: Sequence[str],
        user: str,
        put: tuple[str, Path] | None = None,
        get: tuple[str, Path] | None = None,
        timeout: float = 600,
    ) -> tuple[int, str]:
        return 0, ""

    def copy_from(self, container: str, path: str, dest: Path) -> None:
        dest.write_bytes(b"")

    def put_file(self, container: str, path: str, data: bytes, *, owner: int) -> None:
        self.files[(container, path)] = data

    def volume_exists(self, name: str) -> bool:
        return name in self.volume_set

    def create_volume(self, name: str, labels: Mapping[str, str]) -> None:
        self.volume_set[name] = dict(labels)

    def volume_labels(self, name: str) -> dict[str, str] | None:
        labels = self.volume_set.get(name)
        return None if labels is None else dict(labels)


@dataclass
class FakeCompose:
    containers: FakeContainers
    calls: list[tuple[str, ...]] = field(default_factory=list)
    fail_with: str | None = None
    log_lines: list[str] = field(default_factory=list)
    """What ``stream`` (logs) prints, escape sequences included, as Compose writes them."""
    starts: int = 0

    def version(self) -> str:
        return "2.26.1"

    def run(self, directory: Path, *args: str) -> str:
        self.calls.append(args)
        if self.fail_with is not None:
            raise CommandFailed(self.fail_with)
        project = _project_of(directory)
        running = self.containers.containers.setdefault(project, {})
        named = [arg for arg in args[1:] if not arg.startswith("-")]
        if args[0] == "up":
            self.starts += 1
            for name in named or _services_of(directory):
                running[name] = _container(project, name, "running", self.starts)
        elif args[0] in ("start", "stop", "restart"):
            self.starts += 1
            state = "exited" if args[0] == "stop" else "running"
            for name in named:
                before = running[name]
                started = before.started_at if args[0] == "stop" else str(self.starts)
                running[name] = replace(before, status=state, started_at=started)
        elif args[0] == "down":
            self.containers.containers.pop(project, None)
        return ""

    def passthrough(self, directory: Path, *args: str) -> int:
        self.calls.append(args)
        return 0

    def stream(self, directory: Path, *args: str, line: Callable[[str], None]) -> int:
        self.calls.append(args)
        for text in self.log_lines:
            line(text)
        return 0


@dataclass
class FakeSwarm:
    job_results: dict[str, JobResult] = field(default_factory=dict)
    """By node id: how a probe job placed there ends (default: complete, every port free)."""
    jobs: list[tuple[str, str, list[str]]] = field(default_factory=list)
    """(node id, image, command) of every job run."""
    services: dict[str, ServiceState] = field(default_factory=dict)
    """Service name -> its attributes."""
    forced: list[str] = field(default_factory=list)
    """The services ``force_update`` was asked of."""
    streamed: list[tuple[str, ...]] = field(default_factory=list)
    """(service, args...) of every ``stream_logs``."""
    parts: list[tuple[str, str]] = field(default_factory=list)
    """(stack, stack file text) of every ``stack_deploy_part``."""
    published: list[ServicePort] = field(default_factory=list)
    """What ``service_ports`` lists."""

    def state(self) -> SwarmState:
        return SwarmState("inactive", "", manager=False)

    def nodes(self) -> list[SwarmNode]:
        return []

    def stack_services(self, stack: str) -> dict[str, ServiceState]:
        prefix = f"{stack}_"
        return {name: s for name, s in self.services.items() if name.startswith(prefix)}

    def stack_tasks(self, stack: str) -> list[TaskState]:
        return []

    def service_ports(self) -> list[ServicePort]:
        return list(self.published)

    def stack_secrets(self, stack: str) -> dict[str, dict[str, str]]:
        return {}

    def create_secret(self, name: str, data: str | bytes, labels: Mapping[str, str]) -> None:
        raise CommandFailed("fake: no swarm")

    def remove_secret(self, name: str) -> None:
        raise CommandFailed("fake: no swarm")

    def stack_configs(self, stack: str) -> list[str]:
        return []

    def remove_config(self, name: str) -> None:
        raise CommandFailed("fake: no swarm")

    def stack_deploy(self, directory: Path, stack_file: str, stack: str) -> str:
        raise CommandFailed("fake: no swarm")

    def stack_deploy_part(self, directory: Path, text: str, stack: str) -> str:
        self.parts.append((stack, text))
        return ""

    def stack_rm(self, stack: str) -> str:
        raise CommandFailed("fake: no swarm")

    def service_logs(self, service: str, tail: int = 40) -> str:
        return "gateway log line\n"

    def stream_logs(self, service: str, *args: str, line: Callable[[str], None]) -> int:
        self.streamed.append((service, *args))
        line(f"{service}.1.task@node    | gateway log line")
        return 0

    def scale(self, service: str, replicas: int) -> None:
        raise CommandFailed("fake: no swarm")

    def remove_service(self, service: str) -> None:
        raise CommandFailed("fake: no swarm")

    def force_update(self, service: str) -> None:
        self.forced.append(service)

    def run_job(self, job: Job, timeout: float) -> JobResult:
        self.jobs.append((job.node_id, job.image, list(job.command)))
        return self.job_results.get(
            job.node_id, JobResult("complete", None, "openclaw-compose-busy []")
        )


@dataclass
class FakeEngine:
    containers: FakeContainers = field(default_factory=FakeContainers)
    compose: FakeCompose = field(init=False)
    swarm: FakeSwarm = field(default_factory=FakeSwarm)

    local: bool = True

    def __post_init__(self) -> None:
        self.compose = FakeCompose(self.containers)

    def with_images(self, *tags: str) -> FakeEngine:
        """Images built from the current images/gateway/ (they carry its labels)."""
        labels = {
            SECRETS_LABEL: SECRETS_VARIABLE,
            HOST_SERVICES_LABEL: HOST_SERVICES_VARIABLE,
            FRONT_RELAY_LABEL: FRONT_RELAY_VARIABLE,
        }
        self.containers.images |= {tag: dict(labels) for tag in tags}
        return self


def _container(project: str, service: str, status: str, started: int) -> ContainerState:
    return ContainerState(
        f"{project}-{service}-1", service, status, "starting", 0, 1, started_at=str(started)
    )


def _project_of(directory: Path) -> str:
    for line in (directory / "compose.yaml").read_text().splitlines():
        if line.startswith("name: "):
            return line.removeprefix("name: ").strip()
    raise AssertionError("compose.yaml without a name")


def _services_of(directory: Path) -> list[str]:
    from ruamel.yaml import YAML  # noqa: PLC0415

    document = YAML(typ="safe").load((directory / "compose.yaml").read_text())
    return list(document["services"])
