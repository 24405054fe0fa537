"""All access to Docker: the docker SDK for queries, swarm nodes, secrets and configs; the
Compose v2 CLI for up and down; the ``docker stack`` CLI for deploying and removing stacks (its
loader turns stack files into services, which the SDK has no equivalent for).

Imported only by commands that need Docker, so the others do not pay for the SDK.

No other module imports ``docker`` or runs the ``docker`` CLI (ruff's banned-api enforces the
import rule). Every Docker failure leaves this module as a :class:`DockerError` that says what to
do, never as a traceback.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors
import requests.exceptions

from openclaw_compose.errors import DockerError

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
STACK_LABEL = "com.docker.stack.namespace"
SWARM_SERVICE_LABEL = "com.docker.swarm.service.name"
TASK_LABEL = "com.docker.swarm.task.id"
DAEMON_CONFIG = Path("/etc/docker/daemon.json")
NOT_RUNNING = (
    "cannot reach the Docker engine ({reason}); start it (as root: "
    "'make engine' or 'scripts/engine-bootstrap.sh'), or set DOCKER_HOST"
)


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
class ServicePort:
    """A port a swarm service publishes: ``ingress`` (the routing mesh: every node) or
    ``host`` (the nodes its tasks run on)."""

    port: int
    mode: str
    service: str
    stack: str | None


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


@dataclass(frozen=True, slots=True)
class ContainerState:
    name: str
    service: str
    status: str  # created, running, restarting, exited, ...
    health: str | None  # starting, healthy, unhealthy, or None without a healthcheck
    restarts: int
    pid: int


class Engine:
    """A connection to the Docker engine (opened lazily, on first use)."""

    def __init__(self) -> None:
        self._client: docker.DockerClient | None = None

    @property
    def client(self) -> docker.DockerClient:
        if self._client is None:
            try:
                self._client = docker.from_env(version="auto", timeout=30)
            except docker.errors.DockerException as exc:
                raise DockerError(NOT_RUNNING.format(reason=_first_line(exc))) from None
        return self._client

    def version(self) -> str:
        data = self._call(self.client.version)
        return f"{data.get('Version', '?')} (API {data.get('ApiVersion', '?')})"

    def image_exists(self, tag: str) -> bool:
        return bool(self._call(lambda: self.client.images.list(name=tag)))

    def image_labels(self, tag: str) -> dict[str, str] | None:
        """The labels of a local image; None when it is not here."""
        images = self._call(lambda: self.client.images.list(name=tag))
        return dict(images[0].labels or {}) if images else None

    def published_ports(self) -> list[PublishedPort]:
        """Host ports bound by every container, running or stopped."""
        containers = self._call(lambda: self.client.containers.list(all=True))
        return [port for container in containers for port in _bindings(container.attrs)]

    def project_containers(self, project: str) -> dict[str, ContainerState]:
        """The project's containers by compose service name."""
        return self._containers(_label(project), lambda labels: labels.get(SERVICE_LABEL))

    def stack_containers(self, stack: str) -> dict[str, ContainerState]:
        """The stack's task containers on this node, by service name without the stack prefix;
        the running one when a service has several (old tasks linger until pruned)."""
        prefix = f"{stack}_"
        return self._containers(
            f"{STACK_LABEL}={stack}",
            lambda labels: labels.get(SWARM_SERVICE_LABEL, "").removeprefix(prefix) or None,
        )

    def _containers(self, label: str, service_of: Any) -> dict[str, ContainerState]:
        containers = self._call(
            lambda: self.client.containers.list(all=True, filters={"label": label})
        )
        states: dict[str, ContainerState] = {}
        for container in sorted(containers, key=lambda c: c.attrs.get("Created", "")):
            attrs = container.attrs
            state = attrs.get("State", {})
            service = service_of(attrs["Config"]["Labels"]) or container.name
            known = states.get(service)
            if known is not None and known.status == "running":
                continue
            states[service] = ContainerState(
                name=container.name,
                service=service,
                status=state.get("Status", "unknown"),
                health=(state.get("Health") or {}).get("Status"),
                restarts=attrs.get("RestartCount", 0),
                pid=state.get("Pid", 0),
            )
        return states

    def project_volumes(self, project: str) -> list[str]:
        return self._volumes(_label(project))

    def stack_volumes(self, stack: str) -> list[str]:
        """Volumes the stack's tasks created on this node (each node has its own)."""
        return self._volumes(f"{STACK_LABEL}={stack}")

    def _volumes(self, label: str) -> list[str]:
        volumes = self._call(lambda: self.client.volumes.list(filters={"label": label}))
        return sorted(volume.name for volume in volumes)

    def remove_volume(self, name: str) -> None:
        self._call(lambda: self.client.volumes.get(name).remove())

    def project_networks(self, project: str) -> list[str]:
        return self._networks(_label(project))

    def stack_networks(self, stack: str) -> list[str]:
        return self._networks(f"{STACK_LABEL}={stack}")

    def _networks(self, label: str) -> list[str]:
        networks = self._call(lambda: self.client.networks.list(filters={"label": label}))
        return sorted(network.name for network in networks)

    def inspect_container(self, container: str) -> dict[str, Any]:
        attrs: dict[str, Any] = self._call(lambda: self.client.containers.get(container).attrs)
        return attrs

    def mounts(self, container: str) -> list[dict[str, Any]]:
        attrs = self._call(lambda: self.client.containers.get(container).attrs)
        mounts: list[dict[str, Any]] = attrs.get("Mounts", [])
        return mounts

    def logs(self, container: str, tail: int = 40) -> str:
        data = self._call(lambda: self.client.containers.get(container).logs(tail=tail))
        return bytes(data).decode(errors="replace")

    def run(self, image: str, environment: Mapping[str, str]) -> tuple[int, str]:
        """Run ``image`` once, to its end; its exit code and output (the container is removed)."""
        container = self._call(
            lambda: self.client.containers.run(image, environment=dict(environment), detach=True)
        )
        try:
            code = self._call(lambda: container.wait(timeout=120))["StatusCode"]
            return int(code), bytes(self._call(container.logs)).decode(errors="replace")
        finally:
            self._call(lambda: container.remove(force=True))

    def kill(self, container: str) -> None:
        """SIGKILL a container's main process (tests: a gateway that crashes)."""
        self._call(lambda: self.client.containers.get(container).kill())

    def exec(self, container: str, command: Sequence[str]) -> tuple[int, str]:
        """Run ``command`` in a running container; its exit code and combined output."""
        result = self._call(lambda: self.client.containers.get(container).exec_run(list(command)))
        return result.exit_code, bytes(result.output).decode(errors="replace")

    # --- Swarm ------------------------------------------------------------------------------

    def swarm(self) -> SwarmState:
        info = self._call(self.client.info).get("Swarm") or {}
        return SwarmState(
            state=info.get("LocalNodeState") or "inactive",
            node_id=info.get("NodeID") or "",
            manager=bool(info.get("ControlAvailable")),
        )

    def swarm_init(self, advertise_addr: str) -> None:
        """Make this engine a one-node swarm (tests; users run ``docker swarm init``)."""
        self._call(lambda: self.client.swarm.init(advertise_addr=advertise_addr))

    def swarm_leave(self) -> None:
        self._call(lambda: self.client.swarm.leave(force=True))

    def network_names(self) -> set[str]:
        return {network.name for network in self._call(self.client.networks.list)}

    def remove_network(self, name: str) -> None:
        self._call(lambda: self.client.networks.get(name).remove())

    def swarm_nodes(self) -> list[SwarmNode]:
        nodes = self._call(self.client.nodes.list)
        return [_swarm_node(node.attrs) for node in nodes]

    def stack_services(self, stack: str) -> dict[str, dict[str, Any]]:
        """The stack's services by name, as ``docker service inspect`` shows them."""
        services = self._call(
            lambda: self.client.services.list(filters={"label": f"{STACK_LABEL}={stack}"})
        )
        return {service.name: service.attrs for service in services}

    def stack_tasks(self, stack: str) -> list[TaskState]:
        """Every task of the stack's services (old ones included), oldest first."""
        tasks = self._call(
            lambda: self.client.api.tasks(filters={"label": f"{STACK_LABEL}={stack}"})
        )
        services = {s["ID"]: name for name, s in self.stack_services(stack).items()}
        return [
            TaskState(
                service=services[task["ServiceID"]],
                state=task.get("Status", {}).get("State", "unknown"),
                desired=task.get("DesiredState", "unknown"),
                error=task.get("Status", {}).get("Err") or None,
                node_id=task.get("NodeID", ""),
            )
            for task in sorted(tasks, key=lambda task: str(task.get("CreatedAt", "")))
            if task.get("ServiceID") in services
        ]

    def service_ports(self) -> list[ServicePort]:
        """Ports published by every swarm service (none when this engine is no manager)."""
        if not self.swarm().manager:
            return []
        services = self._call(self.client.services.list)
        return [
            ServicePort(
                port=port["PublishedPort"],
                mode=port.get("PublishMode", "ingress"),
                service=service.name,
                stack=(service.attrs["Spec"].get("Labels") or {}).get(STACK_LABEL),
            )
            for service in services
            for port in (service.attrs.get("Endpoint", {}).get("Ports") or [])
            if port.get("PublishedPort")
        ]

    def stack_secrets(self, stack: str) -> dict[str, dict[str, str]]:
        """The stack's secrets (names and labels; their data cannot be read back)."""
        secrets = self._call(
            lambda: self.client.secrets.list(filters={"label": f"{STACK_LABEL}={stack}"})
        )
        return {s.name: dict(s.attrs["Spec"].get("Labels") or {}) for s in secrets}

    def create_secret(self, name: str, data: str, labels: Mapping[str, str]) -> None:
        """Through the API: the data is in no file and on no command line."""
        self._call(
            lambda: self.client.secrets.create(name=name, data=data.encode(), labels=dict(labels))
        )

    def remove_secret(self, name: str) -> None:
        self._call(lambda: self.client.secrets.get(name).remove())

    def stack_configs(self, stack: str) -> list[str]:
        configs = self._call(
            lambda: self.client.configs.list(filters={"label": f"{STACK_LABEL}={stack}"})
        )
        return sorted(config.name for config in configs)

    def remove_config(self, name: str) -> None:
        self._call(lambda: self.client.configs.get(name).remove())

    def stack_deploy(self, directory: Path, stack_file: str, stack: str) -> str:
        """``docker stack deploy``; what it printed (stdout and stderr: warnings are there).

        ``--resolve-image never``: the images are local, and asking a registry would fail with
        a warning; ``--prune`` removes the services of profiles no longer in the file;
        ``--detach=true``: readiness is the gateways' own ``/startupz``, waited for by the caller.
        """
        args = ["stack", "deploy", "--resolve-image", "never", "--prune", "--detach=true"]
        completed = _run_docker([*args, "--compose-file", stack_file, stack], cwd=directory)
        return completed.stdout + completed.stderr

    def stack_config(self, directory: Path, stack_file: str) -> str:
        """The stack file as ``docker stack deploy`` reads it (its loader's validation)."""
        return _run_docker(["stack", "config", "--compose-file", stack_file], cwd=directory).stdout

    def stack_rm(self, stack: str) -> str:
        """``docker stack rm``, waiting until its tasks are shut down."""
        completed = _run_docker(["stack", "rm", "--detach=false", stack], cwd=None)
        return completed.stdout + completed.stderr

    def _call(self, action: Any) -> Any:
        try:
            return action()
        except docker.errors.NotFound as exc:
            raise DockerError(f"not found in Docker: {_first_line(exc)}") from None
        except docker.errors.DockerException as exc:
            raise DockerError(f"Docker refused: {_first_line(exc)}") from None
        except requests.exceptions.ConnectionError as exc:
            raise DockerError(NOT_RUNNING.format(reason=_first_line(exc))) from None

    # --- Compose v2, through its CLI --------------------------------------------------------

    def compose_version(self) -> str:
        return _run_compose(["version", "--short"], cwd=None).strip()

    def compose(self, directory: Path, *args: str) -> str:
        """Run ``docker compose`` on the project in ``directory``; its output."""
        return _run_compose(["--project-directory", str(directory), *args], cwd=directory)

    def compose_passthrough(self, directory: Path, *args: str) -> int:
        """Run ``docker compose`` attached to this terminal (logs, exec); its exit code."""
        command = [*_docker_cli(), "compose", "--project-directory", str(directory), *args]
        try:
            return subprocess.call(command, cwd=directory)
        except OSError as exc:
            raise DockerError(f"cannot run the docker CLI: {exc.strerror}") from None


@dataclass(frozen=True, slots=True)
class UserlandProxy:
    """The daemon's userland-proxy setting: one ``docker-proxy`` process per published port."""

    enabled: bool
    source: str

    def __str__(self) -> str:
        return f"{str(self.enabled).lower()} ({self.source})"


def userland_proxy() -> UserlandProxy:
    """The setting as configured in /etc/docker/daemon.json (enabled unless it says false)."""
    try:
        config = json.loads(DAEMON_CONFIG.read_text())
    except FileNotFoundError:
        return UserlandProxy(True, f"the default; no {DAEMON_CONFIG}")
    except (OSError, ValueError) as exc:
        return UserlandProxy(True, f"assumed; {DAEMON_CONFIG} unreadable: {exc}")
    return UserlandProxy(config.get("userland-proxy", True) is not False, str(DAEMON_CONFIG))


def _label(project: str) -> str:
    return f"{PROJECT_LABEL}={project}"


def _swarm_node(attrs: dict[str, Any]) -> SwarmNode:
    spec, status = attrs.get("Spec", {}), attrs.get("Status", {})
    return SwarmNode(
        id=attrs["ID"],
        hostname=attrs.get("Description", {}).get("Hostname", ""),
        role=spec.get("Role", "worker"),
        labels=dict(spec.get("Labels") or {}),
        state=status.get("State", "unknown"),
        availability=spec.get("Availability", "active"),
        address=status.get("Addr", ""),
    )


def _bindings(attrs: dict[str, Any]) -> Iterator[PublishedPort]:
    """A container's port bindings; none for a stopped swarm task (swarm never restarts a
    task's container: it starts a new task)."""
    labels = attrs.get("Config", {}).get("Labels") or {}
    status = attrs.get("State", {}).get("Status", "unknown")
    if TASK_LABEL in labels and status != "running":
        return
    bindings = attrs.get("HostConfig", {}).get("PortBindings") or {}
    for bound in bindings.values():
        for binding in bound or []:
            if binding.get("HostPort"):
                low, _, high = binding["HostPort"].partition("-")
                for port in range(int(low), int(high or low) + 1):
                    yield PublishedPort(
                        host_ip=binding.get("HostIp") or "0.0.0.0",
                        port=port,
                        container=attrs.get("Name", "?").lstrip("/"),
                        project=labels.get(PROJECT_LABEL),
                        service=labels.get(SERVICE_LABEL),
                        status=status,
                        stack=labels.get(STACK_LABEL),
                    )


def _docker_cli() -> list[str]:
    docker_cli = shutil.which("docker")
    if docker_cli is None:
        raise DockerError("the docker CLI is not installed; run 'make engine' (as root)")
    return [docker_cli]


def _run_compose(args: list[str], cwd: Path | None) -> str:
    return _run_docker(["compose", *args], cwd).stdout


def _run_docker(args: list[str], cwd: Path | None) -> subprocess.CompletedProcess[str]:
    command = [*_docker_cli(), *args]
    env = {**os.environ, "COMPOSE_ANSI": "never", "COMPOSE_PROGRESS": "plain"}
    try:
        completed = subprocess.run(
            command, cwd=cwd, env=env, capture_output=True, text=True, check=False
        )
    except OSError as exc:
        raise DockerError(f"cannot run the docker CLI: {exc.strerror}") from None
    if completed.returncode != 0:
        output = (completed.stderr or completed.stdout).strip().splitlines()
        detail = "\n  ".join(output[-15:]) or f"exit code {completed.returncode}"
        if "is not a docker command" in completed.stderr:
            detail = "Compose v2 is not installed; run 'make engine' (as root)"
        raise DockerError(f"'docker {' '.join(args)}' failed:\n  {detail}")
    return completed


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
