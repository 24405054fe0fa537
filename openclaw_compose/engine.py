"""All access to Docker: the docker SDK for queries, the Compose v2 CLI for up and down.

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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors
import requests.exceptions

from .errors import DockerError

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
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

    def published_ports(self) -> list[PublishedPort]:
        """Host ports bound by every container, running or stopped."""
        containers = self._call(lambda: self.client.containers.list(all=True))
        return [port for container in containers for port in _bindings(container.attrs)]

    def project_containers(self, project: str) -> dict[str, ContainerState]:
        """The project's containers by compose service name."""
        containers = self._call(
            lambda: self.client.containers.list(all=True, filters={"label": _label(project)})
        )
        states = {}
        for container in containers:
            attrs = container.attrs
            state = attrs.get("State", {})
            service = attrs["Config"]["Labels"].get(SERVICE_LABEL, container.name)
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
        volumes = self._call(lambda: self.client.volumes.list(filters={"label": _label(project)}))
        return sorted(volume.name for volume in volumes)

    def project_networks(self, project: str) -> list[str]:
        networks = self._call(lambda: self.client.networks.list(filters={"label": _label(project)}))
        return sorted(network.name for network in networks)

    def mounts(self, container: str) -> list[dict[str, Any]]:
        attrs = self._call(lambda: self.client.containers.get(container).attrs)
        mounts: list[dict[str, Any]] = attrs.get("Mounts", [])
        return mounts

    def logs(self, container: str, tail: int = 40) -> str:
        data = self._call(lambda: self.client.containers.get(container).logs(tail=tail))
        return bytes(data).decode(errors="replace")

    def exec(self, container: str, command: Sequence[str]) -> tuple[int, str]:
        """Run ``command`` in a running container; its exit code and combined output."""
        result = self._call(lambda: self.client.containers.get(container).exec_run(list(command)))
        return result.exit_code, bytes(result.output).decode(errors="replace")

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


def _bindings(attrs: dict[str, Any]) -> Iterator[PublishedPort]:
    labels = attrs.get("Config", {}).get("Labels") or {}
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
                        status=attrs.get("State", {}).get("Status", "unknown"),
                    )


def _docker_cli() -> list[str]:
    docker_cli = shutil.which("docker")
    if docker_cli is None:
        raise DockerError("the docker CLI is not installed; run 'make engine' (as root)")
    return [docker_cli]


def _run_compose(args: list[str], cwd: Path | None) -> str:
    command = [*_docker_cli(), "compose", *args]
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
        raise DockerError(f"'docker compose {' '.join(args)}' failed:\n  {detail}")
    return completed.stdout


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
