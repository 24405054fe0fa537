"""What the engine holds on one host: images, containers, volumes, networks (through the SDK).

Compose projects and swarm stacks are both found here by their labels: a stack's task
containers, volumes and networks on this node are ordinary objects carrying the stack's label.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import suppress
from functools import partial
from pathlib import Path
from typing import Any

from openclaw_compose.engine.client import Client, docker_cli
from openclaw_compose.engine.records import ContainerState, PublishedPort
from openclaw_compose.errors import DockerError, NotFound

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
STACK_LABEL = "com.docker.stack.namespace"
SWARM_SERVICE_LABEL = "com.docker.swarm.service.name"
TASK_LABEL = "com.docker.swarm.task.id"


def project_label(project: str) -> str:
    return f"{PROJECT_LABEL}={project}"


def stack_label(stack: str) -> str:
    return f"{STACK_LABEL}={stack}"


class Containers:
    """Images, containers, volumes and networks of one engine."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def version(self) -> str:
        data = self._client.call(self._client.sdk.version)
        return f"{data.get('Version', '?')} (API {data.get('ApiVersion', '?')})"

    def image_labels(self, tag: str) -> dict[str, str] | None:
        """The labels of a local image; None when it is not here."""
        images = self._client.call(lambda: self._client.sdk.images.list(name=tag))
        return dict(images[0].labels or {}) if images else None

    def push(self, image: str, repository: str, tag: str) -> str:
        """Tag ``image`` as ``repository:tag``, push it, and return the digest the registry
        gave it (``sha256:...``): the name every node pulls the very same bytes by."""
        sdk = self._client.sdk

        def push() -> str:
            sdk.images.get(image).tag(repository, tag)
            digest = ""
            for line in sdk.api.push(repository, tag, stream=True, decode=True):
                if "error" in line:
                    raise DockerError(f"pushing {repository}:{tag} failed: {line['error']}")
                digest = (line.get("aux") or {}).get("Digest") or digest
            if not digest:
                raise DockerError(f"pushing {repository}:{tag}: the registry returned no digest")
            return digest

        return self._client.call(push)

    def published_ports(self) -> list[PublishedPort]:
        """Host ports bound by every container, running or stopped."""
        return [port for attrs in self._inspect_all() for port in _bindings(attrs)]

    def project_containers(self, project: str) -> dict[str, ContainerState]:
        """A compose project's containers by service name."""
        return self._containers(project_label(project), lambda labels: labels.get(SERVICE_LABEL))

    def remove_leftovers(self, project: str) -> list[str]:
        """Remove the containers of a compose project that Compose named ``<id>_<name>`` while
        recreating them and never removed or renamed back (a kill landed inside the recreate;
        see :func:`recreate_leftover`); their names. Left there, the next ``up`` stops at a name
        already in use."""
        api = self._client.sdk.api
        removed = []
        for attrs in self._inspect_all(project_label(project)):
            name = str(attrs.get("Name", "")).lstrip("/")
            if recreate_leftover(name, project):
                with suppress(NotFound):
                    self._client.call(partial(api.remove_container, attrs["Id"], force=True))
                removed.append(name)
        return removed

    def stack_containers(self, stack: str) -> dict[str, ContainerState]:
        """A stack's task containers on this node, by service name without the stack prefix;
        the running one when a service has several (old tasks linger until pruned)."""
        prefix = f"{stack}_"
        return self._containers(
            stack_label(stack),
            lambda labels: labels.get(SWARM_SERVICE_LABEL, "").removeprefix(prefix) or None,
        )

    def _containers(
        self, label: str, service_of: Callable[[Mapping[str, str]], str | None]
    ) -> dict[str, ContainerState]:
        states: dict[str, ContainerState] = {}
        for attrs in sorted(self._inspect_all(label), key=lambda a: str(a.get("Created", ""))):
            state = attrs.get("State", {})
            name = str(attrs.get("Name", "?")).lstrip("/")
            service = service_of(attrs["Config"]["Labels"] or {}) or name
            known = states.get(service)
            if known is not None and known.status == "running":
                continue
            states[service] = ContainerState(
                name=name,
                service=service,
                status=state.get("Status", "unknown"),
                health=(state.get("Health") or {}).get("Status"),
                restarts=attrs.get("RestartCount", 0),
                pid=state.get("Pid", 0),
                labels=dict(attrs["Config"].get("Labels") or {}),
                exit_code=state.get("ExitCode", 0),
                started_at=state.get("StartedAt", ""),
            )
        return states

    def _inspect_all(self, label: str | None = None) -> list[dict[str, Any]]:
        """``docker inspect`` of every container (with ``label``), running or stopped; one that
        is removed between the listing and its inspection (another project's ``down``) is
        simply gone, not an error."""
        api = self._client.sdk.api
        filters = {"label": label} if label else None
        listed = self._client.call(lambda: api.containers(all=True, filters=filters))
        found: list[dict[str, Any]] = []
        for entry in listed:
            with suppress(NotFound):
                found.append(self._client.call(partial(api.inspect_container, entry["Id"])))
        return found

    def inspect(self, container: str) -> dict[str, Any]:
        """``docker inspect`` of one container."""
        api = self._client.sdk.api
        return dict(self._client.call(partial(api.inspect_container, container)))

    def inspect_network(self, name: str) -> dict[str, Any]:
        """``docker network inspect`` of one network (its containers, ``Internal``)."""
        api = self._client.sdk.api
        return dict(self._client.call(partial(api.inspect_network, name)))

    def volumes(self, label: str) -> list[str]:
        """Names of the volumes carrying ``label`` (``project_label`` / ``stack_label``)."""
        volumes = self._client.call(lambda: self._client.sdk.volumes.list(filters={"label": label}))
        return sorted(volume.name for volume in volumes)

    def remove_volume(self, name: str) -> None:
        self._client.call(lambda: self._client.sdk.volumes.get(name).remove())

    def networks(self, label: str) -> list[str]:
        """Names of the networks carrying ``label``."""
        networks = self._client.call(
            lambda: self._client.sdk.networks.list(filters={"label": label})
        )
        return sorted(network.name for network in networks)

    def logs(self, container: str, tail: int = 40) -> str:
        data = self._client.call(lambda: self._client.sdk.containers.get(container).logs(tail=tail))
        return bytes(data).decode(errors="replace")

    def run(self, image: str, environment: Mapping[str, str]) -> tuple[int, str]:
        """Run ``image`` once, to its end; its exit code and output (the container is removed)."""
        sdk = self._client.sdk
        container = self._client.call(
            lambda: sdk.containers.run(image, environment=dict(environment), detach=True)
        )
        try:
            code = self._client.call(lambda: container.wait(timeout=120))["StatusCode"]
            return int(code), bytes(self._client.call(container.logs)).decode(errors="replace")
        finally:
            self._client.call(lambda: container.remove(force=True))

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
        """Run ``command`` once in a new container of ``image`` (no entrypoint, no network) with
        ``mounts`` (``SOURCE:TARGET``), as ``user``; its exit code and output. ``put``
        (container directory, local tar) is extracted into the container before it starts;
        ``get`` (container file, local path) is copied out after it succeeded. The container is
        removed in any case."""
        sdk, call = self._client.sdk, self._client.call
        container = call(
            lambda: sdk.containers.create(
                image,
                list(command),
                entrypoint=[],
                user=user,
                volumes=list(mounts),
                network_mode="none",
            )
        )
        try:
            if put is not None:
                directory, tar = put
                with tar.open("rb") as stream:
                    call(lambda: container.put_archive(directory, stream))
            call(container.start)
            code = int(call(lambda: container.wait(timeout=timeout))["StatusCode"])
            output = bytes(call(container.logs)).decode(errors="replace")
            if get is not None and code == 0:
                _copy_out(call(lambda: container.get_archive(get[0])[0]), get[1])
            return code, output
        finally:
            call(lambda: container.remove(force=True))

    def copy_from(self, container: str, path: str, dest: Path) -> None:
        """Copy the file ``path`` of a running container to ``dest``, streamed through ``cat``
        in the container (``docker exec``): Docker's archive API does not see a file on a tmpfs
        mount (the gateway's ``/tmp``, where its backups are made). A failed copy leaves no
        ``dest``."""
        command = [*docker_cli(), "exec", container, "cat", "--", path]
        try:
            with dest.open("wb") as out:
                done = subprocess.run(command, stdout=out, stderr=subprocess.PIPE, check=False)
        except OSError as exc:
            dest.unlink(missing_ok=True)
            raise DockerError(f"cannot copy {path} out of container {container}: {exc}") from None
        if done.returncode != 0:
            dest.unlink(missing_ok=True)
            reason = done.stderr.decode(errors="replace").strip()[-2000:]
            raise DockerError(
                f"cannot copy {path} out of container {container}: "
                + (reason or f"docker exec exited with {done.returncode}")
            )

    def put_file(self, container: str, path: str, data: bytes, *, owner: int) -> None:
        """Write ``data`` to the file ``path`` of a running container, mode 0600, owned by
        ``owner`` (uid and gid)."""
        directory, _, name = path.rpartition("/")
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.uid, info.gid = len(data), 0o600, owner, owner
            tar.addfile(info, io.BytesIO(data))
        sdk = self._client.sdk
        self._client.call(
            lambda: sdk.containers.get(container).put_archive(directory or "/", buffer.getvalue())
        )

    def volume_exists(self, name: str) -> bool:
        volumes = self._client.call(lambda: self._client.sdk.volumes.list(filters={"name": name}))
        return any(volume.name == name for volume in volumes)

    def create_volume(self, name: str, labels: Mapping[str, str]) -> None:
        self._client.call(lambda: self._client.sdk.volumes.create(name=name, labels=dict(labels)))

    def volume_labels(self, name: str) -> dict[str, str] | None:
        """The labels of volume ``name``; None when there is no such volume."""
        volumes = self._client.call(lambda: self._client.sdk.volumes.list(filters={"name": name}))
        found = [volume for volume in volumes if volume.name == name]
        return dict(found[0].attrs.get("Labels") or {}) if found else None

    def exec(self, container: str, command: Sequence[str]) -> tuple[int, str]:
        """Run ``command`` in a running container; its exit code and combined output."""
        result = self._client.call(
            lambda: self._client.sdk.containers.get(container).exec_run(list(command))
        )
        return result.exit_code, bytes(result.output).decode(errors="replace")


def recreate_leftover(name: str, project: str) -> bool:
    """Whether ``name`` is one Compose gives a container of ``project`` only inside a recreate:
    ``<12 hex digits>_<project>-<service>-<n>``. Older Compose renamed the old container so
    (its own ID); Compose 2.26 creates the new one under that name (the old one's ID), then
    stops and removes the old one and renames the new one (a kill in between left it, and the
    next recreate of the old one failed: "Conflict. The container name ... is already in use",
    tests/docker/test_day2_kills.py). Either is only a leftover once no Compose runs: the state
    is in the volumes, and ``up`` makes the container again."""
    return re.fullmatch(rf"[0-9a-f]{{12}}_{re.escape(project)}-.+", name) is not None


def _copy_out(chunks: Iterator[bytes], dest: Path) -> None:
    """The one file of an archive ``get_archive`` streams, written to ``dest``."""
    with tempfile.TemporaryFile() as buffer:
        for chunk in chunks:
            buffer.write(chunk)
        buffer.seek(0)
        with tarfile.open(fileobj=buffer) as tar:
            member = tar.next()
            source = tar.extractfile(member) if member is not None else None
            if source is None:
                raise DockerError(f"{dest.name}: the container produced no file to copy out")
            with dest.open("wb") as out:
                shutil.copyfileobj(source, out)


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
